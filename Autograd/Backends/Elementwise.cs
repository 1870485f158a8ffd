namespace Autograd.Backends;

/// <summary>The operations an <see cref="ElementwiseProgram"/> is made of.</summary>
public enum ElementwiseOp : byte
{
    /// <summary>Input buffer number <c>Left</c>.</summary>
    Input,
    /// <summary>The constant <c>Value</c>.</summary>
    Constant,
    /// <summary>left + right.</summary>
    Add,
    /// <summary>left − right.</summary>
    Subtract,
    /// <summary>left · right.</summary>
    Multiply,
    /// <summary>left / right.</summary>
    Divide,
    /// <summary>leftʳⁱᵍʰᵗ (right is always a constant).</summary>
    Pow,
    /// <summary>max(left, right), NaN-propagating.</summary>
    Max,
    /// <summary>min(left, right), NaN-propagating.</summary>
    Min,
    /// <summary>−x.</summary>
    Negate,
    /// <summary>eˣ.</summary>
    Exp,
    /// <summary>ln x.</summary>
    Log,
    /// <summary>tanh x.</summary>
    Tanh,
    /// <summary>1 / (1 + e⁻ˣ).</summary>
    Sigmoid,
    /// <summary>√x.</summary>
    Sqrt,
    /// <summary>1 where x &gt; 0, else 0 (the derivative of ReLU, 0 at 0).</summary>
    Step,
}

/// <summary>One step of an <see cref="ElementwiseProgram"/>: an op on earlier steps (by index) or an input or constant.</summary>
/// <param name="Op">The operation.</param>
/// <param name="Left">The first operand's step index (the input number for <see cref="ElementwiseOp.Input"/>).</param>
/// <param name="Right">The second operand's step index, for binary ops; -1 otherwise.</param>
/// <param name="Value">The value of a <see cref="ElementwiseOp.Constant"/>.</param>
public readonly record struct ElementwiseInstruction(ElementwiseOp Op, int Left, int Right, double Value);

/// <summary>
/// A pointwise computation over equally long input buffers, as a list of steps in dependency order, with one
/// or more of them as results. Ops state their derivative rules as programs; a backend evaluates a whole
/// program in one pass over memory (the CPU backend in cache-sized chunks, a GPU backend as one generated kernel).
/// </summary>
public sealed class ElementwiseProgram
{
    private ElementwiseProgram(ElementwiseInstruction[] steps, int[] outputs, int inputs, string text)
    {
        Steps = steps;
        Outputs = outputs;
        InputCount = inputs;
        Text = text;
    }

    /// <summary>The steps, operands before their users; for a program of one result, the last one is it.</summary>
    public IReadOnlyList<ElementwiseInstruction> Steps { get; }

    /// <summary>The step index of each result, in order (one for <see cref="Compile"/>).</summary>
    public IReadOnlyList<int> Outputs { get; }

    /// <summary>How many input buffers the program reads.</summary>
    public int InputCount { get; }

    /// <summary>The expression the program was built from, for messages.</summary>
    public string Text { get; }

    /// <summary>Compiles an expression, sharing equal subexpressions.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is null.</exception>
    public static ElementwiseProgram Compile(Expr result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return CompileMany([result]);
    }

    /// <summary>
    /// Compiles several results into one program that computes each shared subexpression once
    /// (see <see cref="IKernels{T}.MapMany"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="results"/> is null.</exception>
    /// <exception cref="ArgumentException">No results, or one of them is null.</exception>
    public static ElementwiseProgram CompileMany(IReadOnlyList<Expr> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0) throw new ArgumentException("ElementwiseProgram: needs at least one result.", nameof(results));
        var steps = new List<ElementwiseInstruction>();
        var index = new Dictionary<Expr, int>();
        int inputs = 0;
        int Emit(Expr e)
        {
            if (index.TryGetValue(e, out int i)) return i;
            var ins = e switch
            {
                Expr.InputExpr x => new ElementwiseInstruction(ElementwiseOp.Input, x.Index, -1, 0),
                Expr.ConstantExpr c => new ElementwiseInstruction(ElementwiseOp.Constant, -1, -1, c.Value),
                Expr.UnaryExpr u => new ElementwiseInstruction(u.Op, Emit(u.Operand), -1, 0),
                Expr.BinaryExpr b => new ElementwiseInstruction(b.Op, Emit(b.Left), Emit(b.Right), 0),
                _ => throw new ArgumentException($"ElementwiseProgram: unknown expression {e}."),
            };
            if (ins.Op == ElementwiseOp.Input) inputs = Math.Max(inputs, ins.Left + 1);
            steps.Add(ins);
            return index[e] = steps.Count - 1;
        }
        var outputs = new int[results.Count];
        for (int r = 0; r < results.Count; r++)
            outputs[r] = Emit(results[r] ?? throw new ArgumentException($"ElementwiseProgram: results[{r}] is null.", nameof(results)));
        return new ElementwiseProgram([.. steps], outputs, inputs, string.Join("; ", results));
    }

    /// <inheritdoc />
    public override string ToString() => Text;
}

/// <summary>
/// A pointwise expression over input buffers, written with operators (<c>g * (1 - y * y)</c>) and compiled
/// into an <see cref="ElementwiseProgram"/>. Records: equal expressions compare equal, so compilation shares them.
/// </summary>
public abstract record Expr
{
    private Expr() { }

    /// <summary>Input buffer number <paramref name="index"/>.</summary>
    public static Expr Input(int index) => new InputExpr(index >= 0 ? index : throw new ArgumentOutOfRangeException(nameof(index)));

    /// <summary>A constant.</summary>
    public static Expr Constant(double value) => new ConstantExpr(value);

    /// <summary>A constant.</summary>
    public static implicit operator Expr(double value) => new ConstantExpr(value);

    /// <summary>Sum.</summary>
    public static Expr operator +(Expr a, Expr b) => new BinaryExpr(ElementwiseOp.Add, a, b);
    /// <summary>Difference.</summary>
    public static Expr operator -(Expr a, Expr b) => new BinaryExpr(ElementwiseOp.Subtract, a, b);
    /// <summary>Product.</summary>
    public static Expr operator *(Expr a, Expr b) => new BinaryExpr(ElementwiseOp.Multiply, a, b);
    /// <summary>Quotient.</summary>
    public static Expr operator /(Expr a, Expr b) => new BinaryExpr(ElementwiseOp.Divide, a, b);
    /// <summary>Negation.</summary>
    public static Expr operator -(Expr a) => new UnaryExpr(ElementwiseOp.Negate, a);

    /// <summary>xᵖ for a constant p.</summary>
    public static Expr Pow(Expr x, double exponent) { ArgumentNullException.ThrowIfNull(x); return new BinaryExpr(ElementwiseOp.Pow, x, new ConstantExpr(exponent)); }
    /// <summary>max(a, b).</summary>
    public static Expr Max(Expr a, Expr b) { ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b); return new BinaryExpr(ElementwiseOp.Max, a, b); }
    /// <summary>min(a, b).</summary>
    public static Expr Min(Expr a, Expr b) { ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b); return new BinaryExpr(ElementwiseOp.Min, a, b); }
    /// <summary>eˣ.</summary>
    public static Expr Exp(Expr x) { ArgumentNullException.ThrowIfNull(x); return new UnaryExpr(ElementwiseOp.Exp, x); }
    /// <summary>ln x.</summary>
    public static Expr Log(Expr x) { ArgumentNullException.ThrowIfNull(x); return new UnaryExpr(ElementwiseOp.Log, x); }
    /// <summary>tanh x.</summary>
    public static Expr Tanh(Expr x) { ArgumentNullException.ThrowIfNull(x); return new UnaryExpr(ElementwiseOp.Tanh, x); }
    /// <summary>The logistic function.</summary>
    public static Expr Sigmoid(Expr x) { ArgumentNullException.ThrowIfNull(x); return new UnaryExpr(ElementwiseOp.Sigmoid, x); }
    /// <summary>√x.</summary>
    public static Expr Sqrt(Expr x) { ArgumentNullException.ThrowIfNull(x); return new UnaryExpr(ElementwiseOp.Sqrt, x); }
    /// <summary>1 where x &gt; 0, else 0.</summary>
    public static Expr Step(Expr x) { ArgumentNullException.ThrowIfNull(x); return new UnaryExpr(ElementwiseOp.Step, x); }

    internal sealed record InputExpr(int Index) : Expr
    {
        public override string ToString() => $"in{Index}";
    }

    internal sealed record ConstantExpr(double Value) : Expr
    {
        public override string ToString() => Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
    }

    internal sealed record UnaryExpr(ElementwiseOp Op, Expr Operand) : Expr
    {
        public override string ToString() => Op == ElementwiseOp.Negate ? $"-{Operand}" : $"{Op.ToString().ToLowerInvariant()}({Operand})";
    }

    internal sealed record BinaryExpr(ElementwiseOp Op, Expr Left, Expr Right) : Expr
    {
        public override string ToString() => Op switch
        {
            ElementwiseOp.Add => $"({Left} + {Right})",
            ElementwiseOp.Subtract => $"({Left} - {Right})",
            ElementwiseOp.Multiply => $"{Left} * {Right}",
            ElementwiseOp.Divide => $"{Left} / {Right}",
            _ => $"{Op.ToString().ToLowerInvariant()}({Left}, {Right})",
        };
    }
}
