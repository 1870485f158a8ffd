using CsCheck;

namespace Autograd.Tests.Engine;

/// <summary>
/// Property-based tests (CsCheck) for every primitive: random shapes, broadcast pairs, axes, ids
/// and values; each case's forward against the naive loops and its backward against finite
/// differences (the op table's checks). A fixed seed and iteration count keep CI deterministic
/// and short; on a failure CsCheck shrinks from the failing case and prints the smallest it finds.
/// </summary>
public class OpPropertyTests
{
    private const ulong Seed = 20261202;

    private static readonly Gen<int> Dim = Gen.Int[1, 5];

    /// <summary>One of the values (shrinks towards the first).</summary>
    internal static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    /// <summary>A shape of rank in [minRank, maxRank], each axis drawn from <paramref name="dim"/>.</summary>
    internal static Gen<int[]> Shape(int minRank, int maxRank, Gen<int> dim) => Gen.Int[minRank, maxRank].SelectMany(r => dim.Array[r]);

    /// <summary>A value seed folded into the name (the op table draws inputs from the name).</summary>
    private static Gen<OpCase> Seeded(Gen<OpCase> gen) => gen.Select(Gen.Int[0, 9999], (row, v) => row with { Name = $"{row.Name} values {v}" });

    /// <summary>
    /// Two shapes that broadcast: an output shape, and for each side a suffix of it (NumPy aligns
    /// trailing axes) with some axes set to 1.
    /// </summary>
    private static Gen<(int[] A, int[] B)> BroadcastPair(Gen<int> dim) =>
        Shape(0, 3, dim).SelectMany(o =>
        {
            Gen<int[]> Side() => Gen.Int[0, o.Length].SelectMany(drop => Gen.Bool.Array[o.Length - drop].Select(ones => o[drop..].Select((d, i) => ones[i] ? 1 : d).ToArray()));
            return Side().Select(Side(), (a, b) => (a, b));
        });

    private static Gen<OpCase> Binary(Gen<int> dim) =>
        Gen.Int[0, OpTable.BinaryOps.Length - 1].Select(BroadcastPair(dim), (k, p) =>
        {
            var (name, op, reference, domain) = OpTable.BinaryOps[k];
            return OpTable.Binary(name, p.A, p.B, op, reference, domain);
        });

    private static readonly (string Name, Func<Tensor<double>, Tensor<double>> Op, Func<double, double> Ref, Domain Domain)[] UnaryOps =
    [
        ("negate", x => -x, x => -x, Domain.Any),
        ("exp", x => x.Exp(), Math.Exp, Domain.Any),
        ("log", x => x.Log(), Math.Log, Domain.Positive),
        ("tanh", x => x.Tanh(), Math.Tanh, Domain.Any),
        ("sigmoid", x => x.Sigmoid(), Naive.Sigmoid, Domain.Any),
        ("relu", x => x.Relu(), v => Math.Max(v, 0), Domain.AwayFromZero),
        ("pow 2", x => x.Pow(2.0), v => v * v, Domain.Any),
        ("pow 3", x => x.Pow(3.0), v => v * v * v, Domain.Any),
        ("pow 0.5", x => x.Pow(0.5), Math.Sqrt, Domain.Positive),
        ("pow -1.5", x => x.Pow(-1.5), v => Math.Pow(v, -1.5), Domain.Positive),
    ];

    private static Gen<OpCase> Unary(Gen<int> dim) =>
        Gen.Int[0, UnaryOps.Length - 1].Select(Shape(0, 3, dim), Pick(1.0, 2.0), (k, s, scale) =>
        {
            var (name, op, reference, domain) = UnaryOps[k];
            return OpTable.Unary(name, s, op, reference, domain, scale);
        });

    /// <summary>[..batch, m, k] @ [..batch, k, n]: both batched, a shared right operand, or a shared left one.</summary>
    private static Gen<OpCase> MatMul(Gen<int> size, Gen<int> dim) =>
        size.Select(size, size, Shape(0, 2, dim), Gen.Int[0, 2], (m, k, n, batch, pattern) =>
        {
            int[] a = [.. batch, m, k], b = [.. batch, k, n];
            return pattern switch
            {
                0 => OpTable.MatMul(a, b),
                1 => OpTable.MatMul(a, [k, n]),
                _ => OpTable.MatMul([m, k], b),
            };
        });

    private static Gen<OpCase> Transpose(Gen<int> dim) => Shape(2, 4, dim).Select(OpTable.Transpose);

    /// <summary>To a flat vector, or to (a, -1) for a divisor a of the length; no elements: to (-1) or (2, 0, 3).</summary>
    private static Gen<OpCase> Reshape(Gen<int> dim) =>
        Shape(1, 3, dim).SelectMany(s =>
        {
            int n = s.Aggregate(1, (x, y) => x * y);
            if (n == 0) return Gen.Bool.Select(flat => flat ? OpTable.Reshape(s, [-1], [0]) : OpTable.Reshape(s, [2, 0, 3], [2, 0, 3]));
            var divisors = Enumerable.Range(1, n).Where(a => n % a == 0).ToArray();
            return Pick(divisors).Select(Gen.Bool, (a, flat) => flat ? OpTable.Reshape(s, [-1], [n]) : OpTable.Reshape(s, [a, -1], [a, n / a]));
        });

    /// <summary>A non-empty slice of a non-empty axis; of an empty axis, the empty slice at 0.</summary>
    private static Gen<OpCase> Slice(Gen<int> dim) =>
        Shape(1, 3, dim).SelectMany(s => Gen.Int[0, s.Length - 1].SelectMany(axis =>
            Gen.Int[0, Math.Max(s[axis] - 1, 0)].SelectMany(start => Gen.Int[Math.Min(1, s[axis] - start), s[axis] - start].Select(Gen.Bool, (length, negative) =>
                OpTable.Slice(s, negative ? axis - s.Length : axis, start, length)))));

    private static Gen<OpCase> Concat(Gen<int> dim) =>
        Shape(1, 3, dim).SelectMany(s => Gen.Int[0, s.Length - 1].SelectMany(axis => dim.Array[2, 3].Select(sizes =>
            OpTable.Concat(axis, sizes.Select(d => s.Select((x, i) => i == axis ? d : x).ToArray()).ToArray()))));

    private static Gen<OpCase> Stack(Gen<int> dim) =>
        Shape(0, 2, dim).SelectMany(s => Gen.Int[0, s.Length].Select(Gen.Int[1, 3], (axis, count) => OpTable.Stack(axis, s, count)));

    /// <summary>Sum, mean or max along an axis; max of an empty axis (refused: no value exists) becomes sum.</summary>
    private static Gen<OpCase> Reduce(Gen<int> dim) =>
        Pick("sum", "mean", "max").SelectMany(kind => Shape(1, 3, dim).SelectMany(s =>
            Gen.Int[-s.Length, s.Length - 1].Select(Gen.Bool, (axis, keep) =>
                OpTable.Reduce(kind == "max" && s[axis < 0 ? axis + s.Length : axis] == 0 ? "sum" : kind, s, axis, keep)))); // max: normal inputs, no ties

    private static Gen<OpCase> ReduceAll(Gen<int> dim) => Gen.Bool.Select(Shape(0, 3, dim), OpTable.ReduceAll);

    private static Gen<OpCase> Softmax(Gen<int> dim) =>
        Gen.Bool.SelectMany(log => Shape(1, 3, dim).SelectMany(s => Gen.Int[-s.Length, s.Length - 1].Select(Pick(1.0, 5.0),
            (axis, scale) => OpTable.Softmax(log, s, axis, scale))));

    /// <summary>1 to 6 ids (no ids from an empty first axis).</summary>
    private static Gen<OpCase> IndexSelect(Gen<int> dim) =>
        Shape(1, 3, dim).SelectMany(s => s[0] == 0
            ? Gen.Const(OpTable.IndexSelect(s, []))
            : Gen.Int[0, s[0] - 1].Array[1, 6].Select(ids => OpTable.IndexSelect(s, ids)));

    /// <summary>Cross-entropy needs a position and a class: its edge cases are refusals (see EdgePropertyTests).</summary>
    private static readonly Gen<OpCase> CrossEntropy =
        Shape(1, 3, Dim).SelectMany(s => Gen.Int[0, s[^1] - 1].Array[s.Length == 1 ? 1 : s[..^1].Aggregate(1, (x, y) => x * y)]
            .Select(Pick(1.0, 10.0), (targets, scale) => OpTable.CrossEntropy(s, targets, scale)));

    /// <summary>
    /// Every op family with axis sizes from <paramref name="dim"/> (matrix sizes from <paramref name="matrixDim"/>)
    /// and its iteration count: <see cref="Families"/> uses sizes 1 to 5, EdgePropertyTests sizes 0 and 1.
    /// </summary>
    internal static IEnumerable<(string Name, Gen<OpCase> Gen, int Iterations)> FamiliesOf(Gen<int> dim, Gen<int> matrixDim)
    {
        yield return ("add, subtract, multiply, divide (broadcast)", Binary(dim), 200);
        yield return ("negate, exp, log, tanh, sigmoid, relu, pow", Unary(dim), 150);
        yield return ("matmul (batched, shared operands)", MatMul(matrixDim, dim), 100);
        yield return ("transpose", Transpose(dim), 40);
        yield return ("reshape", Reshape(dim), 40);
        yield return ("slice", Slice(dim), 60);
        yield return ("concat", Concat(dim), 60);
        yield return ("stack", Stack(dim), 40);
        yield return ("sum, mean, max along an axis", Reduce(dim), 100);
        yield return ("sum, mean of all", ReduceAll(dim), 30);
        yield return ("softmax, logsoftmax", Softmax(dim), 80);
        yield return ("indexselect", IndexSelect(dim), 50);
    }

    public static IEnumerable<TestCaseData> Families()
    {
        foreach (var (name, gen, iterations) in FamiliesOf(Dim, Gen.Int[1, 6]))
            yield return new TestCaseData(gen, iterations).SetArgDisplayNames(name);
        yield return new TestCaseData(CrossEntropy, 60).SetArgDisplayNames("crossentropy");
    }

    [TestCaseSource(nameof(Families))]
    public void RandomCases_ForwardMatchesNaiveLoops_BackwardMatchesFiniteDifferences(Gen<OpCase> family, int iterations)
    {
        var names = Property(family, iterations, row =>
        {
            OpTableTests.CheckForward(row);
            OpTableTests.CheckGradient(row);
        });
        TestContext.Out.WriteLine($"{iterations} cases, e.g. {string.Join("; ", names.Take(3))}");
    }

    [Test]
    public void Table_CoversEveryPrimitive()
    {
        var ops = Families().SelectMany(f => Sample((Gen<OpCase>)f.Arguments[0]!, 40)).Select(r => r.Name.Split(' ')[0]).ToHashSet();
        Assert.That(ops, Is.SupersetOf(new[]
        {
            "add", "subtract", "multiply", "divide", "negate", "matmul", "transpose", "reshape", "slice", "concat", "stack",
            "sum", "mean", "max", "exp", "log", "tanh", "sigmoid", "relu", "pow", "softmax", "logsoftmax", "indexselect", "crossentropy",
        }));
    }

    /// <summary>A wrong op is caught, and the report carries CsCheck's shrunk case and its seed.</summary>
    [Test]
    public void AFailingProperty_IsShrunkAndPrinted()
    {
        // "add" whose result is wrong whenever an axis is longer than 2: the smallest counterexample has one axis of 3.
        var wrong = BroadcastPair(Dim).Select(p => OpTable.Binary("add", p.A, p.B,
            (a, b) => Naive.BroadcastShape(a.Shape.ToArray(), b.Shape.ToArray()).Any(d => d > 2) ? a + b + 1e-3 : a + b, (a, b) => a + b));
        var e = Assert.Catch(() => Property(wrong, 200, OpTableTests.CheckForward))!;
        TestContext.Out.WriteLine(e.Message);
        Assert.That(e.Message, Does.Contain("Set seed").And.Contain("add ["));
    }

    private static List<OpCase> Sample(Gen<OpCase> gen, int n)
    {
        var pcg = new PCG(1, Seed);
        return Enumerable.Range(0, n).Select(_ => gen.Generate(pcg, null!, out Size _)).ToList();
    }

    /// <summary>
    /// Runs <paramref name="check"/> on <paramref name="iterations"/> cases drawn from a fixed seed. On the
    /// first failure, CsCheck's Sample restarts from that case's seed and shrinks; its exception (the
    /// smallest failing case, printed by name, and the seed to reproduce it) is what the test reports.
    /// </summary>
    internal static List<string> Property(Gen<OpCase> family, int iterations, Action<OpCase> check)
    {
        var gen = Seeded(family);
        var pcg = new PCG(1, Seed);
        var names = new List<string>();
        for (int i = 0; i < iterations; i++)
        {
            ulong state = pcg.Seed;
            var row = gen.Generate(pcg, null!, out Size _);
            names.Add(row.Name);
            try
            {
                check(row);
            }
            catch (Exception first) when (first is AssertionException or GradCheckException)
            {
                gen.Sample(check, seed: pcg.ToString(state), iter: 300, threads: 1, print: r => r.Name);
                throw; // CsCheck did not reproduce it: report the original failure
            }
        }
        return names;
    }
}
