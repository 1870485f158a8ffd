using Autograd.Backends;
using T = Autograd.Tensor<double>;

namespace Autograd.Tests.Engine;

/// <summary>How a row's inputs are drawn (all from a fixed per-row seed).</summary>
public enum Domain
{
    /// <summary>Standard normal.</summary>
    Any,
    /// <summary>0.5 + |N(0,1)|: for log, fractional powers.</summary>
    Positive,
    /// <summary>sign · (0.3 + |N(0,1)|): for relu's kink and divisors.</summary>
    AwayFromZero,
    /// <summary>
    /// ±(5 + 3·U[0, 1)): saturated tanh (tanh' from 1.8e-4 down to 4.5e-7; sigmoid uses scale 2). Deeper
    /// saturation is not measurable: at ±20, 1 − tanh² rounds to 0 in double and so do finite differences.
    /// </summary>
    Saturated,
}

/// <summary>
/// One row of the op table: the op under test as a function of its inputs, the input shapes, and
/// optionally an independent reference forward (values and shape) computed by <see cref="Naive"/>.
/// </summary>
/// <param name="GradStep">Central-difference step for this row's gradcheck.</param>
/// <param name="GradAbsTolerance">Absolute tolerance of this row's gradcheck (relative: gradcheck's 1e-3). The default
/// 1e-5 suits O(1) gradients; rows with tiny gradients set it far below their smallest gradient.</param>
public sealed record OpCase(
    string Name,
    int[][] Shapes,
    Func<T[], T> Function,
    Func<double[][], int[][], (double[] Values, int[] Shape)>? Reference = null,
    Domain Domain = Domain.Any,
    double Scale = 1.0,
    double GradStep = 1e-6,
    double GradAbsTolerance = 1e-5)
{
    public T[] MakeInputs()
    {
        // Stable seed per row (string.GetHashCode is randomised per process).
        int seed = 17;
        foreach (char ch in Name) seed = unchecked(seed * 31 + ch);
        var rng = new Random(seed);
        var inputs = new T[Shapes.Length];
        for (int i = 0; i < Shapes.Length; i++)
        {
            var t = Tensor.Randn<double>(rng, Shapes[i]);
            var data = t.ToArray();
            for (int e = 0; e < data.Length; e++)
            {
                double v = data[e];
                data[e] = Scale * Domain switch
                {
                    Domain.Positive => 0.5 + Math.Abs(v),
                    Domain.AwayFromZero => Math.Sign(v == 0 ? 1 : v) * (0.3 + Math.Abs(v)),
                    Domain.Saturated => (rng.Next(2) == 0 ? -1 : 1) * (5 + 3 * rng.NextDouble()),
                    _ => v,
                };
            }
            inputs[i] = Tensor.FromArray(data, Shapes[i]);
        }
        return inputs;
    }

    public override string ToString() => Name;
}

/// <summary>The table of primitive (and composed) ops, one row per op, shape and value regime.</summary>
public static class OpTable
{
    public static string Fmt(int[] s) => "[" + string.Join("x", s) + "]";

    private static (double[], int[]) Map(double[] x, int[] s, Func<double, double> f) => (x.Select(f).ToArray(), s);

    public static OpCase Binary(string name, int[] sa, int[] sb, Func<T, T, T> op, Func<double, double, double> reference, Domain domain = Domain.Any)
        => new($"{name} {Fmt(sa)},{Fmt(sb)}", [sa, sb], x => op(x[0], x[1]),
            (d, s) => (Naive.Binary(d[0], s[0], d[1], s[1], reference), Naive.BroadcastShape(s[0], s[1])), domain);

    public static OpCase Unary(string name, int[] shape, Func<T, T> op, Func<double, double> reference, Domain domain = Domain.Any, double scale = 1.0)
        => new($"{name} {Fmt(shape)}{(domain == Domain.Any ? "" : " " + domain)}{(scale == 1 ? "" : " x" + scale)}", [shape], x => op(x[0]),
            (d, s) => Map(d[0], s[0], reference), domain, scale)
        {
            // Saturated gradients are 1e-7..1e-4: an absolute 1e-5 would pass a zero backward. 1e-10 is 1e-3 of the
            // smallest and 10x the finite-difference round-off (few ulp of a sum ≤ 7 over 2·1e-4).
            GradStep = domain == Domain.Saturated ? 1e-4 : 1e-6,
            GradAbsTolerance = domain == Domain.Saturated ? 1e-10 : 1e-5,
        };

    public static readonly (string Name, Func<T, T, T> Op, Func<double, double, double> Ref, Domain Domain)[] BinaryOps =
    [
        ("add", (a, b) => a + b, (a, b) => a + b, Domain.Any),
        ("subtract", (a, b) => a - b, (a, b) => a - b, Domain.Any),
        ("multiply", (a, b) => a * b, (a, b) => a * b, Domain.Any),
        ("divide", (a, b) => a / b, (a, b) => a / b, Domain.AwayFromZero),
    ];

    private static readonly (int[] A, int[] B)[] BroadcastPairs =
    [
        ([2, 3], [2, 3]),
        ([2, 3], [3]),          // right side broadcast
        ([3], [2, 3]),          // left side broadcast
        ([2, 1], [1, 3]),       // both sides
        ([4, 1, 3], [2, 1]),    // both sides, different ranks
        ([], [2, 3]),           // scalar tensor on the left
        ([2, 3], []),           // scalar tensor on the right
        ([7], [7]),             // vector remainder
        ([33], [1]),
        ([3, 1, 11], [1, 2, 1]),
        ([1025], [1025]),       // vector remainder at a larger size (cheap elementwise)
        ([1025], [1]),
    ];

    // --- one factory per op family: the table's rows and the property tests' random cases ---

    public static OpCase MatMul(int[] a, int[] b)
        => new($"matmul {Fmt(a)},{Fmt(b)}", [a, b], x => x[0].MatMul(x[1]),
            (d, s) => (Naive.MatMul(d[0], s[0], d[1], s[1]), [.. (s[0].Length >= s[1].Length ? s[0] : s[1])[..^2], s[0][^2], s[1][^1]]));

    public static OpCase Transpose(int[] s0)
        => new($"transpose {Fmt(s0)}", [s0], x => x[0].Transpose(), (d, s) => (Naive.Transpose(d[0], s[0]), [.. s[0][..^2], s[0][^1], s[0][^2]]));

    /// <summary>Reshape, then multiply by exp of the reshaped tensor so the gradient is not trivially ones.</summary>
    public static OpCase Reshape(int[] s0, int[] target, int[] expected)
        => new($"reshape {Fmt(s0)} to {Fmt(target)}", [s0], x => x[0].Reshape(target) * x[0].Reshape(target).Exp(),
            (d, s) => (d[0].Select(v => v * Math.Exp(v)).ToArray(), expected));

    public static OpCase Slice(int[] s0, int axis, int start, int length)
        => new($"slice {Fmt(s0)} axis {axis} [{start}+{length}]", [s0], x => x[0].Slice(axis, start, length),
            (d, s) =>
            {
                var os = (int[])s[0].Clone();
                os[axis < 0 ? axis + os.Length : axis] = length;
                return (Naive.Slice(d[0], s[0], axis, start, length), os);
            });

    public static OpCase Concat(int axis, int[][] shapes)
        => new($"concat axis {axis} {string.Join(",", shapes.Select(Fmt))}", shapes, x => Tensor.Concat(axis, x),
            (d, s) =>
            {
                var os = (int[])s[0].Clone();
                int ax = axis < 0 ? axis + os.Length : axis;
                os[ax] = s.Sum(z => z[ax]);
                return (Naive.Concat(axis, d.Zip(s).ToArray()), os);
            });

    public static OpCase Stack(int axis, int[] s0, int count)
        => new($"stack axis {axis} {count}x{Fmt(s0)}", Enumerable.Repeat(s0, count).ToArray(), x => Tensor.Stack(axis, x),
            (d, s) =>
            {
                int ax = axis < 0 ? axis + s0.Length + 1 : axis;
                int[] os = [.. s0[..ax], count, .. s0[ax..]];
                return (Naive.Stack(axis, d.Zip(s).ToArray()), os);
            });

    public static OpCase ReduceAll(bool mean, int[] s0)
        => new($"{(mean ? "mean" : "sum")} all {Fmt(s0)}", [s0], x => mean ? x[0].Mean() : x[0].Sum(),
            (d, s) => ([mean ? Mean(d[0]) : d[0].Sum()], []));

    /// <summary>The mean, NaN for no values (as PyTorch's mean of an empty tensor).</summary>
    private static double Mean(IEnumerable<double> v) => v.Any() ? v.Average() : double.NaN;

    /// <summary>Sum, mean or (random normal inputs: ties have probability 0) max along an axis.</summary>
    public static OpCase Reduce(string kind, int[] s0, int axis, bool keep)
        => new($"{kind} {Fmt(s0)} axis {axis} keepDim {keep}", [s0],
            x => kind switch { "sum" => x[0].Sum(axis, keep), "mean" => x[0].Mean(axis, keep), _ => x[0].Max(axis, keep) },
            (d, s) =>
            {
                int ax = axis < 0 ? axis + s0.Length : axis;
                int[] os = keep ? [.. s0[..ax], 1, .. s0[(ax + 1)..]] : [.. s0[..ax], .. s0[(ax + 1)..]];
                return (Naive.Reduce(d[0], s[0], axis, v => kind switch { "sum" => v.Sum(), "mean" => Mean(v), _ => v.Max() }), os);
            });

    public static OpCase Softmax(bool log, int[] s0, int axis, double scale = 1)
        => new($"{(log ? "logsoftmax" : "softmax")} {Fmt(s0)} axis {axis}{(scale == 1 ? "" : " x" + scale)}", [s0],
            x => log ? x[0].LogSoftmax(axis) : x[0].Softmax(axis),
            (d, s) => (log ? Naive.LogSoftmax(d[0], s[0], axis) : Naive.Softmax(d[0], s[0], axis), s[0]),
            Scale: scale);

    public static OpCase IndexSelect(int[] s0, int[] ids)
        => new($"indexselect {Fmt(s0)} ids {string.Join(",", ids)}", [s0], x => x[0].IndexSelect(ids),
            (d, s) => (Naive.IndexSelect(d[0], s[0], ids), [ids.Length, .. s0[1..]]));

    public static OpCase CrossEntropy(int[] s0, int[] targets, double scale = 1)
        => new($"crossentropy {Fmt(s0)} targets {string.Join(",", targets)}{(scale == 1 ? "" : " x" + scale)}", [s0],
            x => x[0].CrossEntropy(targets),
            (d, s) => ([Naive.CrossEntropy(d[0], s[0], targets)], []),
            Scale: scale);

    /// <summary>A fused pointwise function; the reference applies <paramref name="reference"/> to each broadcast position's values.</summary>
    public static OpCase Pointwise(string name, PointwiseFunction f, Func<double[], double> reference, int[][] shapes, Domain domain = Domain.Any)
        => new($"pointwise {name} {string.Join(",", shapes.Select(Fmt))}", shapes, x => Tensor.Pointwise(f, x),
            (d, s) =>
            {
                var shape = s.Aggregate(Naive.BroadcastShape);
                // Each input broadcast to the result's shape (the op keeps the left operand's value).
                var full = d.Select((v, i) => Naive.Binary(v, s[i], new double[shape.Aggregate(1, (p, q) => p * q)], shape, (a, _) => a)).ToArray();
                var r = new double[full[0].Length];
                for (int e = 0; e < r.Length; e++) r[e] = reference(full.Select(v => v[e]).ToArray());
                return (r, shape);
            }, domain);

    private static OpCase Pointwise(string name, Func<Expr, Expr, Expr, Expr, Expr> body, Func<double[], double> reference, int[][] shapes)
        => Pointwise(name, PointwiseFunction.Compile(body), reference, shapes);

    public static IEnumerable<OpCase> Rows()
    {
        // --- broadcasting binary ops, tensors on both sides ---
        foreach (var (name, op, reference, domain) in BinaryOps)
            foreach (var (a, b) in BroadcastPairs)
                yield return Binary(name, a, b, op, reference, domain);

        // --- a double on either side, through the operators ---
        yield return Unary("add double right", [2, 3], x => x + 2.5, x => x + 2.5);
        yield return Unary("add double left", [2, 3], x => 2.5 + x, x => 2.5 + x);
        yield return Unary("subtract double right", [2, 3], x => x - 1.5, x => x - 1.5);
        yield return Unary("subtract double left", [7], x => 1.5 - x, x => 1.5 - x);
        yield return Unary("multiply double right", [2, 3], x => x * -3.0, x => x * -3.0);
        yield return Unary("multiply double left", [33], x => 0.7 * x, x => 0.7 * x);
        yield return Unary("divide double right", [2, 3], x => x / 4.0, x => x / 4.0);
        yield return Unary("divide double left", [7], x => 2.0 / x, x => 2.0 / x, Domain.AwayFromZero);

        // --- negate ---
        yield return Unary("negate", [2, 3], x => -x, x => -x);
        yield return Unary("negate", [7], x => -x, x => -x);
        yield return Unary("negate", [1025], x => -x, x => -x);

        // --- matmul ---
        foreach (var (a, b) in new (int[], int[])[]
        {
            ([3, 4], [4, 5]),
            ([1, 7], [7, 1]),
            ([2, 3, 4], [2, 4, 5]),     // batched both sides
            ([2, 3, 4], [4, 5]),        // shared weight
            ([3, 4], [2, 4, 5]),        // shared left operand
            ([2, 2, 3, 4], [2, 2, 4, 5]),
            ([5, 33], [33, 7]),         // remainder sizes
            ([17, 9], [9, 13]),
        })
            yield return MatMul(a, b);

        // --- transpose ---
        foreach (var s0 in new[] { new[] { 3, 4 }, [2, 3, 4], [1, 7] })
            yield return Transpose(s0);

        // --- reshape (values unchanged in row-major order) ---
        foreach (var (s0, target, expected) in new (int[], int[], int[])[]
        {
            ([2, 3, 4], [6, -1], [6, 4]),
            ([2, 3, 4], [-1], [24]),
            ([2, 3, 4], [4, -1, 3], [4, 2, 3]),
            ([7], [7, 1], [7, 1]),
            ([2, 3], [3, 2], [3, 2]),
        })
            yield return Reshape(s0, target, expected);

        // --- slice ---
        foreach (var (s0, axis, start, length) in new (int[], int, int, int)[]
        {
            ([4, 5], 0, 1, 2),
            ([4, 5], 1, 2, 3),
            ([2, 3, 4], -1, 1, 2),
            ([2, 3, 4], -2, 0, 2),
            ([2, 3, 4], 1, 2, 1),
            ([33], 0, 5, 27),
        })
            yield return Slice(s0, axis, start, length);

        // --- concat ---
        foreach (var (axis, shapes) in new (int, int[][])[]
        {
            (0, [[2, 3], [1, 3], [4, 3]]),
            (1, [[2, 3], [2, 1], [2, 2]]),
            (-1, [[2, 3, 1], [2, 3, 4]]),
            (1, [[2, 1, 4], [2, 3, 4]]),
        })
            yield return Concat(axis, shapes);

        // --- stack ---
        foreach (var (axis, s0, count) in new (int, int[], int)[]
        {
            (0, [2, 3], 3),
            (1, [2, 3], 2),
            (-1, [2, 3], 2),
            (2, [2, 3], 3),
        })
            yield return Stack(axis, s0, count);

        // --- sum, mean ---
        foreach (var mean in new[] { false, true })
        {
            string n = mean ? "mean" : "sum";
            foreach (var s0 in new[] { new[] { 2, 3 }, [1025], [] })
                yield return ReduceAll(mean, s0);
            foreach (var (s0, axis, keep) in new (int[], int, bool)[]
            {
                ([3, 4], 0, false),
                ([3, 4], 1, true),
                ([2, 3, 4], -1, false),
                ([2, 3, 4], 1, true),
                ([2, 3, 4], 0, true),
                ([33], 0, false),
                ([4, 33], -2, false),
            })
                yield return Reduce(n, s0, axis, keep);
        }

        // --- max along an axis (random normal inputs: ties have probability 0) ---
        foreach (var (s0, axis, keep) in new (int[], int, bool)[]
        {
            ([4, 5], 0, false),
            ([4, 5], 1, true),
            ([2, 3, 7], -1, false),
            ([2, 3, 4], 1, true),
            ([33], 0, false),
        })
            yield return Reduce("max", s0, axis, keep);

        // --- elementwise unary ---
        foreach (var s0 in new[] { new[] { 2, 3 }, [7], [33], [1025] })
        {
            // Transcendentals only up to 33: TensorPrimitives' double Exp/Log/Tanh run up to
            // ~200 ns/element on the CI machine and a gradcheck is 2n forward passes; 7 and 33
            // already hit the vector remainder.
            if (s0.Length != 1 || s0[0] != 1025)
            {
                yield return Unary("exp", s0, x => x.Exp(), Math.Exp);
                yield return Unary("log", s0, x => x.Log(), Math.Log, Domain.Positive);
                yield return Unary("tanh", s0, x => x.Tanh(), Math.Tanh);
                yield return Unary("sigmoid", s0, x => x.Sigmoid(), Naive.Sigmoid);
            }
            yield return Unary("relu", s0, x => x.Relu(), v => Math.Max(v, 0), Domain.AwayFromZero);
        }
        yield return Unary("tanh", [7], x => x.Tanh(), Math.Tanh, Domain.Saturated);
        yield return Unary("sigmoid", [7], x => x.Sigmoid(), Naive.Sigmoid, Domain.Saturated, scale: 2);
        yield return Unary("tanh", [7], x => x.Tanh(), Math.Tanh, Domain.Any, scale: 4);
        yield return Unary("sigmoid", [7], x => x.Sigmoid(), Naive.Sigmoid, Domain.Any, scale: 8);

        // --- pow ---
        yield return Unary("pow 2", [2, 3], x => x.Pow(2.0), v => v * v);
        yield return Unary("pow 3", [7], x => x.Pow(3.0), v => v * v * v);
        yield return Unary("pow 0.5", [2, 3], x => x.Pow(0.5), Math.Sqrt, Domain.Positive);
        yield return Unary("pow -1.5", [33], x => x.Pow(-1.5), v => 1 / (v * Math.Sqrt(v)), Domain.Positive);
        yield return Unary("pow 1.7", [33], x => x.Pow(1.7), v => Math.Pow(v, 1.7), Domain.Positive);

        // --- softmax, log-softmax, any axis ---
        foreach (var log in new[] { false, true })
            foreach (var (s0, axis, scale) in new (int[], int, double)[]
            {
                ([3, 5], -1, 1),
                ([3, 5], 0, 1),
                ([2, 4, 3], 1, 1),       // strided axis (inner > 1)
                ([2, 4, 3], -3, 1),
                ([2, 33], -1, 1),
                ([7], 0, 1),
                ([3, 5], 1, 30),         // large logits: still well conditioned for finite differences
            })
                yield return Softmax(log, s0, axis, scale);

        // --- index select, with repeated ids ---
        foreach (var (s0, ids) in new (int[], int[])[]
        {
            ([5, 3], [1, 4, 1, 0, 1]),
            ([4], [3, 3, 0]),
            ([3, 2, 2], [2, 0, 2, 2]),
            ([6, 33], [5, 0, 5]),
        })
            yield return IndexSelect(s0, ids);

        // --- fused cross-entropy ---
        foreach (var (s0, targets, scale) in new (int[], int[], double)[]
        {
            ([4, 5], [0, 4, 2, 4], 1),
            ([2, 3, 5], [1, 0, 4, 4, 2, 3], 1),
            ([1, 33], [32], 1),
            ([7], [3], 1),
            ([3, 4], [2, 2, 0], 10),
        })
            yield return CrossEntropy(s0, targets, scale);

        // --- fused pointwise functions: forward against doubles, backward (symbolic derivatives) by finite differences ---
        foreach (var s0 in new[] { new[] { 3, 5 }, [], [2, 700] }) // 700: more than one 512-element chunk
            yield return Pointwise("lstm cell", (f, i, g, c) => Expr.Sigmoid(f) * c + Expr.Sigmoid(i) * Expr.Tanh(g),
                v => Naive.Sigmoid(v[0]) * v[3] + Naive.Sigmoid(v[1]) * Math.Tanh(v[2]), [s0, s0, s0, s0]);
        yield return Pointwise("every unary", PointwiseFunction.Compile(x => -Expr.Exp(x) + Expr.Log(x) * Expr.Sqrt(x) - Expr.Tanh(x) / Expr.Sigmoid(x) + Expr.Step(x - 1) * x),
            v => -Math.Exp(v[0]) + Math.Log(v[0]) * Math.Sqrt(v[0]) - Math.Tanh(v[0]) / Naive.Sigmoid(v[0]) + (v[0] > 1 ? v[0] : 0), [[2, 7]], Domain.Positive);
        yield return Pointwise("pow divide", PointwiseFunction.Compile((a, b) => Expr.Pow(a, 3) / b + Expr.Pow(b, 0.5) - Expr.Pow(a, 2) * Expr.Pow(b, 1) + a / 2),
            v => Math.Pow(v[0], 3) / v[1] + Math.Sqrt(v[1]) - v[0] * v[0] * v[1] + v[0] / 2, [[3, 4], [3, 4]], Domain.Positive);
        yield return Pointwise("max min", PointwiseFunction.Compile((a, b) => Expr.Max(a, b) * 2 - Expr.Min(a * b, b)),
            v => Math.Max(v[0], v[1]) * 2 - Math.Min(v[0] * v[1], v[1]), [[4, 5], [4, 5]]);
        yield return Pointwise("broadcast", PointwiseFunction.Compile((a, b, c) => a * Expr.Exp(b) - c * a),
            v => v[0] * Math.Exp(v[1]) - v[2] * v[0], [[2, 3], [1, 3], [3]]);
        yield return Pointwise("broadcast both", PointwiseFunction.Compile((a, b) => Expr.Tanh(a + b) * b),
            v => Math.Tanh(v[0] + v[1]) * v[1], [[4, 1], [1, 3]]);
        yield return Pointwise("unused input", PointwiseFunction.Compile(Expr.Sigmoid(Expr.Input(0)) * 3, 2),
            v => 3 * Naive.Sigmoid(v[0]), [[2, 3], [2, 3]]);
        yield return new("pointwise same tensor twice [2x3]", [[2, 3]],
            x => Tensor.Pointwise(PointwiseFunction.Compile((a, b) => a * Expr.Tanh(b)), x[0], x[0]),
            (d, s) => (d[0].Select(v => v * Math.Tanh(v)).ToArray(), s[0]));

        // --- a composite expression through several ops at once (shared inputs) ---
        yield return new("composite tanh(x@w+b)*x", [[3, 4], [4, 4], [4]],
            x => (x[0].MatMul(x[1]) + x[2]).Tanh() * x[0],
            (d, s) =>
            {
                var z = Naive.Binary(Naive.MatMul(d[0], s[0], d[1], s[1]), [3, 4], d[2], s[2], (a, b) => a + b);
                return (Naive.Binary(z.Select(Math.Tanh).ToArray(), [3, 4], d[0], s[0], (a, b) => a * b), [3, 4]);
            });
    }
}
