using System.Collections.Concurrent;
using Autograd.Backends;

namespace Autograd;

/// <summary>
/// A pointwise expression over n tensors (broadcast to one shape), compiled once with its derivatives, for
/// <see cref="Tensor.Pointwise{T}(PointwiseFunction, Tensor{T}[])"/>: a chain of elementwise ops that runs as
/// one op (one pass over memory, one graph node) instead of one op per step. The derivative with respect to
/// each input is derived symbolically from the expression, so nothing here or in its users writes a backward.
/// </summary>
/// <example>
/// <code>
/// var cell = PointwiseFunction.Compile((f, i, g, c) => Expr.Sigmoid(f) * c + Expr.Sigmoid(i) * Expr.Tanh(g));
/// var cOut = Tensor.Pointwise(cell, fGate, iGate, gGate, cIn);
/// </code>
/// </example>
/// <remarks>
/// Max and Min send the gradient to the left operand where it is larger (smaller), to the right one
/// otherwise (ties and NaN included); Step has derivative 0 everywhere. A recorded op keeps its result and
/// up to six exp/log/tanh/sigmoid intermediates for backward (written in the same forward pass); the rest
/// of what backward needs is recomputed from the inputs.
/// </remarks>
public sealed class PointwiseFunction
{
    /// <summary>Most intermediates a recorded forward keeps for backward.</summary>
    internal const int MaxSaved = 6;

    private readonly ElementwiseProgram?[] _gradients;
    private readonly Expr?[] _backwardExpressions;
    private readonly ConcurrentDictionary<int, ElementwiseProgram> _backward = new();

    private PointwiseFunction(Expr expression, int arity)
    {
        Expression = expression;
        Arity = arity;
        Forward = ElementwiseProgram.Compile(expression);
        var g = Expr.Input(arity);
        _gradients = new ElementwiseProgram?[arity];
        var derivatives = new Expr?[arity];
        for (int i = 0; i < arity; i++)
        {
            var d = Differentiate(expression, i);
            if (IsZero(d)) continue;
            derivatives[i] = Product(g, d);
            _gradients[i] = ElementwiseProgram.Compile(derivatives[i]!);
        }

        // Backward reads the output and the transcendental intermediates the recorded forward saved, instead of
        // recomputing them (an exp or tanh costs more than the pass that stores it): the result is input
        // arity + 1, saved value s is input arity + 2 + s.
        var saved = new List<Expr>();
        foreach (var d in derivatives)
            if (d is not null) CollectSaved(d, expression, saved);
        Saved = saved;
        var replace = new Dictionary<Expr, Expr> { [expression] = Expr.Input(arity + 1) };
        for (int s = 0; s < saved.Count; s++) replace[saved[s]] = Expr.Input(arity + 2 + s);
        _backwardExpressions = [.. derivatives.Select(d => d is null ? null : Substitute(d, replace))];
        RecordedForward = ElementwiseProgram.CompileMany([expression, .. saved]);
    }

    /// <summary>The intermediates a recorded forward writes besides the result (results 1.. of <see cref="RecordedForward"/>).</summary>
    internal IReadOnlyList<Expr> Saved { get; }

    /// <summary>The forward of a recorded op: the result, then each of <see cref="Saved"/>.</summary>
    internal ElementwiseProgram RecordedForward { get; }

    private static void CollectSaved(Expr e, Expr root, List<Expr> saved)
    {
        switch (e)
        {
            case Expr.UnaryExpr u:
                if (u.Op is ElementwiseOp.Exp or ElementwiseOp.Log or ElementwiseOp.Tanh or ElementwiseOp.Sigmoid && !u.Equals(root))
                {
                    // Saved whole (or, past the limit, recomputed whole): nothing inside it is saved on its own.
                    if (saved.Count < MaxSaved && !saved.Contains(u)) saved.Add(u);
                }
                else CollectSaved(u.Operand, root, saved);
                break;
            case Expr.BinaryExpr b:
                CollectSaved(b.Left, root, saved);
                CollectSaved(b.Right, root, saved);
                break;
        }
    }

    private static Expr Substitute(Expr e, Dictionary<Expr, Expr> replace)
    {
        if (replace.TryGetValue(e, out var r)) return r;
        return e switch
        {
            Expr.UnaryExpr u => new Expr.UnaryExpr(u.Op, Substitute(u.Operand, replace)),
            Expr.BinaryExpr b => new Expr.BinaryExpr(b.Op, Substitute(b.Left, replace), Substitute(b.Right, replace)),
            _ => e,
        };
    }

    /// <summary>The expression; input k is <c>Expr.Input(k)</c>.</summary>
    public Expr Expression { get; }

    /// <summary>How many tensors the function takes.</summary>
    public int Arity { get; }

    /// <summary>The forward program: inputs 0..Arity-1.</summary>
    public ElementwiseProgram Forward { get; }

    /// <summary>
    /// The program computing g ⊙ ∂f/∂input, reading inputs 0..Arity-1 and g (the gradient of the result) as input
    /// <see cref="Arity"/>; null where the derivative is identically zero.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="input"/> is not in [0, Arity).</exception>
    public ElementwiseProgram? Gradient(int input)
        => (uint)input < (uint)Arity ? _gradients[input] : throw new ArgumentOutOfRangeException(nameof(input), input, $"PointwiseFunction '{Expression}': input {input} is not in [0, {Arity}).");

    /// <summary>
    /// One program computing the gradients of the inputs in <paramref name="inputs"/> (a bit mask; each must have a
    /// <see cref="Gradient"/>), in increasing input order, sharing subexpressions between them. It reads the inputs,
    /// g (input Arity), the result (Arity + 1) and the <see cref="Saved"/> values (Arity + 2 ...).
    /// </summary>
    internal ElementwiseProgram Backward(int inputs)
        => _backward.GetOrAdd(inputs, static (mask, self) =>
            ElementwiseProgram.CompileMany([.. Enumerable.Range(0, self.Arity).Where(i => (mask >> i & 1) != 0).Select(i => self._backwardExpressions[i]!)]), this);

    /// <summary>Compiles <paramref name="expression"/> over <paramref name="arity"/> inputs (some may go unused).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="expression"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="arity"/> is below 1, or the expression reads an input ≥ arity.</exception>
    public static PointwiseFunction Compile(Expr expression, int arity)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (arity < 1) throw new ArgumentOutOfRangeException(nameof(arity), arity, "PointwiseFunction: needs at least one input.");
        int used = MaxInput(expression) + 1;
        if (used > arity)
            throw new ArgumentOutOfRangeException(nameof(arity), arity, $"PointwiseFunction: '{expression}' reads input {used - 1}, beyond arity {arity}.");
        return new PointwiseFunction(expression, arity);
    }

    /// <summary>Compiles a one-input function.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="body"/> is null or returns null.</exception>
    public static PointwiseFunction Compile(Func<Expr, Expr> body)
        => Compile(NotNull(body)(Expr.Input(0)), 1);

    /// <summary>Compiles a two-input function.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="body"/> is null or returns null.</exception>
    public static PointwiseFunction Compile(Func<Expr, Expr, Expr> body)
        => Compile(NotNull(body)(Expr.Input(0), Expr.Input(1)), 2);

    /// <summary>Compiles a three-input function.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="body"/> is null or returns null.</exception>
    public static PointwiseFunction Compile(Func<Expr, Expr, Expr, Expr> body)
        => Compile(NotNull(body)(Expr.Input(0), Expr.Input(1), Expr.Input(2)), 3);

    /// <summary>Compiles a four-input function.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="body"/> is null or returns null.</exception>
    public static PointwiseFunction Compile(Func<Expr, Expr, Expr, Expr, Expr> body)
        => Compile(NotNull(body)(Expr.Input(0), Expr.Input(1), Expr.Input(2), Expr.Input(3)), 4);

    /// <summary>Compiles a five-input function.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="body"/> is null or returns null.</exception>
    public static PointwiseFunction Compile(Func<Expr, Expr, Expr, Expr, Expr, Expr> body)
        => Compile(NotNull(body)(Expr.Input(0), Expr.Input(1), Expr.Input(2), Expr.Input(3), Expr.Input(4)), 5);

    /// <inheritdoc />
    public override string ToString() => Expression.ToString();

    private static TDelegate NotNull<TDelegate>(TDelegate body) where TDelegate : Delegate
        => body ?? throw new ArgumentNullException(nameof(body));

    private static int MaxInput(Expr e) => e switch
    {
        Expr.InputExpr x => x.Index,
        Expr.UnaryExpr u => MaxInput(u.Operand),
        Expr.BinaryExpr b => Math.Max(MaxInput(b.Left), MaxInput(b.Right)),
        _ => -1,
    };

    // --- symbolic differentiation, with the folding that keeps the programs short (0·x, 1·x, x + 0) ---

    private static bool IsZero(Expr e) => e is Expr.ConstantExpr { Value: 0 };

    private static bool IsOne(Expr e) => e is Expr.ConstantExpr { Value: 1 };

    private static Expr Sum(Expr a, Expr b) => IsZero(a) ? b : IsZero(b) ? a : a + b;

    private static Expr Difference(Expr a, Expr b) => IsZero(b) ? a : IsZero(a) ? -b : a - b;

    private static Expr Product(Expr a, Expr b) => IsZero(a) || IsZero(b) ? 0 : IsOne(a) ? b : IsOne(b) ? a : a * b;

    /// <summary>∂e/∂(input <paramref name="input"/>).</summary>
    private static Expr Differentiate(Expr e, int input)
    {
        Expr D(Expr x) => Differentiate(x, input);
        switch (e)
        {
            case Expr.InputExpr x: return x.Index == input ? 1 : 0;
            case Expr.ConstantExpr: return 0;
            case Expr.UnaryExpr u:
            {
                var x = u.Operand;
                var dx = D(x);
                if (IsZero(dx)) return 0;
                return u.Op switch
                {
                    ElementwiseOp.Negate => -dx,
                    ElementwiseOp.Exp => Product(dx, e),
                    ElementwiseOp.Log => dx / x,
                    ElementwiseOp.Tanh => Product(dx, 1 - e * e),
                    ElementwiseOp.Sigmoid => Product(dx, e * (1 - e)),
                    ElementwiseOp.Sqrt => Product(dx, 0.5 / e),
                    ElementwiseOp.Step => 0,
                    _ => throw new NotSupportedException($"PointwiseFunction: no derivative rule for {u.Op}."),
                };
            }
            case Expr.BinaryExpr b:
            {
                Expr l = b.Left, r = b.Right, dl = D(l), dr = D(r);
                switch (b.Op)
                {
                    case ElementwiseOp.Add: return Sum(dl, dr);
                    case ElementwiseOp.Subtract: return Difference(dl, dr);
                    case ElementwiseOp.Multiply: return Sum(Product(dl, r), Product(l, dr));
                    case ElementwiseOp.Divide:
                        return Difference(IsZero(dl) ? 0 : dl / r, IsZero(dr) ? 0 : Product(dr, l / (r * r)));
                    case ElementwiseOp.Pow:
                    {
                        // The exponent is a constant (Expr.Pow builds it so).
                        double p = ((Expr.ConstantExpr)r).Value;
                        if (IsZero(dl) || p == 0) return 0;
                        return Product(dl, p == 1 ? 1 : p == 2 ? 2 * l : p * Expr.Pow(l, p - 1));
                    }
                    case ElementwiseOp.Max:
                    case ElementwiseOp.Min:
                    {
                        // Where the left operand wins (strictly), the gradient is its; elsewhere the right one's.
                        var left = Expr.Step(b.Op == ElementwiseOp.Max ? l - r : r - l);
                        return Sum(Product(dl, left), Product(dr, 1 - left));
                    }
                    default: throw new NotSupportedException($"PointwiseFunction: no derivative rule for {b.Op}.");
                }
            }
            default: throw new NotSupportedException($"PointwiseFunction: unknown expression {e}.");
        }
    }
}
