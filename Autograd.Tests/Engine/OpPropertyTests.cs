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
    private static Gen<T> Pick<T>(params T[] values) => Gen.Int[0, values.Length - 1].Select(i => values[i]);

    private static Gen<int[]> Shape(int minRank, int maxRank) => Gen.Int[minRank, maxRank].SelectMany(r => Dim.Array[r]);

    /// <summary>A value seed folded into the name (the op table draws inputs from the name).</summary>
    private static Gen<OpCase> Seeded(Gen<OpCase> gen) => gen.Select(Gen.Int[0, 9999], (row, v) => row with { Name = $"{row.Name} values {v}" });

    /// <summary>
    /// Two shapes that broadcast: an output shape, and for each side a suffix of it (NumPy aligns
    /// trailing axes) with some axes set to 1.
    /// </summary>
    private static readonly Gen<(int[] A, int[] B)> BroadcastPair =
        Shape(0, 3).SelectMany(o =>
        {
            Gen<int[]> Side() => Gen.Int[0, o.Length].SelectMany(drop => Gen.Bool.Array[o.Length - drop].Select(ones => o[drop..].Select((d, i) => ones[i] ? 1 : d).ToArray()));
            return Side().Select(Side(), (a, b) => (a, b));
        });

    private static readonly Gen<OpCase> Binary =
        Gen.Int[0, OpTable.BinaryOps.Length - 1].Select(BroadcastPair, (k, p) =>
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

    private static readonly Gen<OpCase> Unary =
        Gen.Int[0, UnaryOps.Length - 1].Select(Shape(0, 3), Pick(1.0, 2.0), (k, s, scale) =>
        {
            var (name, op, reference, domain) = UnaryOps[k];
            return OpTable.Unary(name, s, op, reference, domain, scale);
        });

    /// <summary>[..batch, m, k] @ [..batch, k, n]: both batched, a shared right operand, or a shared left one.</summary>
    private static readonly Gen<OpCase> MatMul =
        Gen.Int[1, 6].Select(Gen.Int[1, 6], Gen.Int[1, 6], Shape(0, 2), Gen.Int[0, 2], (m, k, n, batch, pattern) =>
        {
            int[] a = [.. batch, m, k], b = [.. batch, k, n];
            return pattern switch
            {
                0 => OpTable.MatMul(a, b),
                1 => OpTable.MatMul(a, [k, n]),
                _ => OpTable.MatMul([m, k], b),
            };
        });

    private static readonly Gen<OpCase> Transpose = Shape(2, 4).Select(OpTable.Transpose);

    /// <summary>To a flat vector, or to (a, -1) for a divisor a of the length.</summary>
    private static readonly Gen<OpCase> Reshape =
        Shape(1, 3).SelectMany(s =>
        {
            int n = s.Aggregate(1, (x, y) => x * y);
            var divisors = Enumerable.Range(1, n).Where(a => n % a == 0).ToArray();
            return Pick(divisors).Select(Gen.Bool, (a, flat) => flat ? OpTable.Reshape(s, [-1], [n]) : OpTable.Reshape(s, [a, -1], [a, n / a]));
        });

    private static readonly Gen<OpCase> Slice =
        Shape(1, 3).SelectMany(s => Gen.Int[0, s.Length - 1].SelectMany(axis =>
            Gen.Int[0, s[axis] - 1].SelectMany(start => Gen.Int[1, s[axis] - start].Select(Gen.Bool, (length, negative) =>
                OpTable.Slice(s, negative ? axis - s.Length : axis, start, length)))));

    private static readonly Gen<OpCase> Concat =
        Shape(1, 3).SelectMany(s => Gen.Int[0, s.Length - 1].SelectMany(axis => Dim.Array[2, 3].Select(sizes =>
            OpTable.Concat(axis, sizes.Select(d => s.Select((x, i) => i == axis ? d : x).ToArray()).ToArray()))));

    private static readonly Gen<OpCase> Stack =
        Shape(0, 2).SelectMany(s => Gen.Int[0, s.Length].Select(Gen.Int[1, 3], (axis, count) => OpTable.Stack(axis, s, count)));

    private static readonly Gen<OpCase> Reduce =
        Pick("sum", "mean", "max").SelectMany(kind => Shape(1, 3).SelectMany(s =>
            Gen.Int[-s.Length, s.Length - 1].Select(Gen.Bool, (axis, keep) => OpTable.Reduce(kind, s, axis, keep)))); // max: normal inputs, no ties

    private static readonly Gen<OpCase> ReduceAll = Gen.Bool.Select(Shape(0, 3), OpTable.ReduceAll);

    private static readonly Gen<OpCase> Softmax =
        Gen.Bool.SelectMany(log => Shape(1, 3).SelectMany(s => Gen.Int[-s.Length, s.Length - 1].Select(Pick(1.0, 5.0),
            (axis, scale) => OpTable.Softmax(log, s, axis, scale))));

    private static readonly Gen<OpCase> IndexSelect =
        Shape(1, 3).SelectMany(s => Gen.Int[0, s[0] - 1].Array[1, 6].Select(ids => OpTable.IndexSelect(s, ids)));

    private static readonly Gen<OpCase> CrossEntropy =
        Shape(1, 3).SelectMany(s => Gen.Int[0, s[^1] - 1].Array[s.Length == 1 ? 1 : s[..^1].Aggregate(1, (x, y) => x * y)]
            .Select(Pick(1.0, 10.0), (targets, scale) => OpTable.CrossEntropy(s, targets, scale)));

    public static IEnumerable<TestCaseData> Families()
    {
        TestCaseData F(string name, Gen<OpCase> gen, int iterations) => new TestCaseData(gen, iterations).SetArgDisplayNames(name);
        yield return F("add, subtract, multiply, divide (broadcast)", Binary, 200);
        yield return F("negate, exp, log, tanh, sigmoid, relu, pow", Unary, 150);
        yield return F("matmul (batched, shared operands)", MatMul, 100);
        yield return F("transpose", Transpose, 40);
        yield return F("reshape", Reshape, 40);
        yield return F("slice", Slice, 60);
        yield return F("concat", Concat, 60);
        yield return F("stack", Stack, 40);
        yield return F("sum, mean, max along an axis", Reduce, 100);
        yield return F("sum, mean of all", ReduceAll, 30);
        yield return F("softmax, logsoftmax", Softmax, 80);
        yield return F("indexselect", IndexSelect, 50);
        yield return F("crossentropy", CrossEntropy, 60);
    }

    [TestCaseSource(nameof(Families))]
    public void RandomCases_ForwardMatchesNaiveLoops_BackwardMatchesFiniteDifferences(Gen<OpCase> family, int iterations)
    {
        var names = Property(Seeded(family), iterations, row =>
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
        var wrong = BroadcastPair.Select(p => OpTable.Binary("add", p.A, p.B,
            (a, b) => Naive.BroadcastShape(a.Shape.ToArray(), b.Shape.ToArray()).Any(d => d > 2) ? a + b + 1e-3 : a + b, (a, b) => a + b));
        var e = Assert.Catch(() => Property(Seeded(wrong), 200, OpTableTests.CheckForward))!;
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
    private static List<string> Property(Gen<OpCase> gen, int iterations, Action<OpCase> check)
    {
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
