using System.Numerics;
using System.Runtime.Intrinsics;
using Autograd.Backends.Cpu;

namespace Autograd.Tests.Kernels;

/// <summary>
/// Gemm.Multiply against a naive triple loop in double, for every transpose variant, both accumulate modes,
/// shapes on both sides of every block and path boundary, float and double, and every instruction set the
/// machine accelerates; plus bitwise determinism across repeated calls and thread counts.
/// </summary>
public class GemmTests
{
    // (m, n, k). The comments name the boundary a shape exercises.
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 7, 1), (7, 1, 7), (2, 3, 4), (1, 128, 97), (1, 97, 128), (32, 128, 97), // direct path
        (1, 300, 5), (5, 9, 50),                                                               // direct: > 8 row vectors, dot chunk tail
        (5, 33, 7), (6, 32, 97), (7, 33, 97), (12, 64, 16), (13, 17, 400),                     // direct: row/col edges, long k
        (97, 33, 257), (127, 65, 257), (125, 40, 770),                                         // packed: Mc edge, 3 k-blocks
        (121, 1025, 3), (64, 1040, 8),                                                         // packed: Nc edge
        (130, 97, 513),                                                                        // parallel, rows split, 3 k-blocks
        (33, 1030, 129),                                                                       // parallel, columns split
    ];

    private static readonly (int M, int N, int K)[] ZeroShapes = [(0, 5, 3), (5, 0, 3), (5, 3, 0), (0, 0, 0)];

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (m, n, k) in Shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    foreach (bool acc in new[] { false, true })
                        yield return new TestCaseData(m, n, k, ta, tb, acc)
                            .SetArgDisplayNames($"{m}x{n}x{k}", ta ? "T" : "N", tb ? "T" : "N", acc ? "acc" : "set");
    }

    [TestCaseSource(nameof(Cases))]
    public void Float_MatchesNaiveLoop(int m, int n, int k, bool transA, bool transB, bool accumulate) =>
        CheckAgainstNaive<float>(m, n, k, transA, transB, accumulate, seed: m * 1000 + n * 10 + k);

    [TestCaseSource(nameof(Cases))]
    public void Double_MatchesNaiveLoop(int m, int n, int k, bool transA, bool transB, bool accumulate) =>
        CheckAgainstNaive<double>(m, n, k, transA, transB, accumulate, seed: m * 999 + n * 7 + k);

    public static IEnumerable<TestCaseData> IsaCases()
    {
        // Only the paths this machine can run are cases (CI fails on a skipped test); the scalar path always is.
        foreach (var isa in new[] { GemmIsa.Vector512, GemmIsa.Vector256, GemmIsa.Vector128, GemmIsa.Scalar }.Where(IsAccelerated))
            foreach (var (m, n, k) in new[] { (7, 33, 97), (13, 17, 400), (97, 33, 257), (33, 1030, 129) })
                yield return new TestCaseData(isa.ToString(), m, n, k).SetArgDisplayNames(isa.ToString(), $"{m}x{n}x{k}");
    }

    /// <summary>Every instruction-set path (including the fallbacks this machine would not pick) is correct.</summary>
    [TestCaseSource(nameof(IsaCases))]
    public void EveryInstructionSet_MatchesNaiveLoop(string isaName, int m, int n, int k)
    {
        // The enum is internal; a public test method takes its name.
        var isa = Enum.Parse<GemmIsa>(isaName);
        Assert.That(IsAccelerated(isa), Is.True, $"{isa} is hardware accelerated here");
        TestContext.Out.WriteLine($"ISAs checked on this machine: {string.Join(", ", IsaCases().Select(c => c.Arguments[0]).Distinct())}");
        var saved = Gemm.Options;
        try
        {
            Gemm.Options = saved with { Isa = isa };
            Assert.That(Gemm.EffectiveIsa, Is.EqualTo(isa));
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    CheckAgainstNaive<float>(m, n, k, ta, tb, accumulate: true, seed: 11);
                    CheckAgainstNaive<double>(m, n, k, ta, tb, accumulate: false, seed: 12);
                }
        }
        finally
        {
            Gemm.Options = saved;
        }
    }

    [Test]
    public void ZeroSizes_OverwriteClearsAndAccumulateKeeps()
    {
        foreach (var (m, n, k) in ZeroShapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var a = new float[m * k];
                    var b = new float[k * n];
                    var c = Enumerable.Repeat(3f, m * n).ToArray();
                    Gemm.Multiply<float>(ta, tb, m, n, k, a, b, c, accumulate: true);
                    Assert.That(c, Is.All.EqualTo(3f), $"{m}x{n}x{k} accumulate");
                    Gemm.Multiply<float>(ta, tb, m, n, k, a, b, c, accumulate: false);
                    Assert.That(c, Is.All.EqualTo(0f), $"{m}x{n}x{k} overwrite");
                }
    }

    [Test]
    public void KnownSmallProduct_AllVariants()
    {
        // [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]]; transposed storage of the same operands.
        float[] a = [1, 2, 3, 4], aT = [1, 3, 2, 4], b = [5, 6, 7, 8], bT = [5, 7, 6, 8];
        float[] expected = [19, 22, 43, 50];
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var c = new float[4];
                Gemm.Multiply<float>(ta, tb, 2, 2, 2, ta ? aT : a, tb ? bT : b, c, accumulate: false);
                Assert.That(c, Is.EqualTo(expected), $"transA={ta} transB={tb}");
                Gemm.Multiply<float>(ta, tb, 2, 2, 2, ta ? aT : a, tb ? bT : b, c, accumulate: true);
                Assert.That(c, Is.EqualTo(expected.Select(x => 2 * x).ToArray()), $"accumulate transA={ta} transB={tb}");
            }
    }

    [TestCase(5, 7, 9)]        // direct path
    [TestCase(127, 65, 257)]   // packed, single thread
    [TestCase(130, 97, 513)]   // packed, rows split when parallel
    [TestCase(33, 1030, 129)]  // packed, columns split when parallel
    public void Results_AreBitwiseDeterministic_AcrossCallsAndThreadCounts(int m, int n, int k)
    {
        int saved = Tensor.NumThreads;
        try
        {
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    var rng = new Random(m + n + k);
                    float[] a = RandomArray<float>(rng, m * k), b = RandomArray<float>(rng, k * n);
                    float[] c0 = RandomArray<float>(rng, m * n);

                    Tensor.NumThreads = 1;
                    float[] one = (float[])c0.Clone(), oneAgain = (float[])c0.Clone();
                    Gemm.Multiply<float>(ta, tb, m, n, k, a, b, one, accumulate: true);
                    Gemm.Multiply<float>(ta, tb, m, n, k, a, b, oneAgain, accumulate: true);

                    Tensor.NumThreads = 2;
                    float[] two = (float[])c0.Clone();
                    Gemm.Multiply<float>(ta, tb, m, n, k, a, b, two, accumulate: true);

                    Assert.That(BitsOf(oneAgain), Is.EqualTo(BitsOf(one)), $"repeat, transA={ta} transB={tb}");
                    Assert.That(BitsOf(two), Is.EqualTo(BitsOf(one)), $"1 vs 2 threads, transA={ta} transB={tb}");
                }
        }
        finally
        {
            Tensor.NumThreads = saved;
        }
    }

    [Test]
    public void BadArguments_ThrowNamingGemm()
    {
        var x = new float[12];
        Assert.Multiple(() =>
        {
            Assert.That(() => Gemm.Multiply<float>(false, false, -1, 2, 2, x, x, x, false),
                Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Gemm.Multiply"));
            Assert.That(() => Gemm.Multiply<float>(false, false, 4, 4, 4, new float[15], new float[16], new float[16], false),
                Throws.ArgumentException.With.Message.Contains("A needs 16"));
            Assert.That(() => Gemm.Multiply<float>(true, true, 4, 4, 4, new float[16], new float[15], new float[16], false),
                Throws.ArgumentException.With.Message.Contains("B needs 16"));
            Assert.That(() => Gemm.Multiply<float>(false, false, 4, 4, 4, new float[16], new float[16], new float[15], true),
                Throws.ArgumentException.With.Message.Contains("C needs 16"));
            Assert.That(() => Tensor.NumThreads = 0, Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    private static void CheckAgainstNaive<T>(int m, int n, int k, bool transA, bool transB, bool accumulate, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        T[] a = RandomArray<T>(rng, m * k), b = RandomArray<T>(rng, k * n);
        // Without accumulate, C starts as NaN: overwrite must not read it.
        T[] c0 = accumulate ? RandomArray<T>(rng, m * n) : Enumerable.Repeat(T.NaN, m * n).ToArray();
        T[] c = (T[])c0.Clone();

        Gemm.Multiply<T>(transA, transB, m, n, k, a, b, c, accumulate);

        // Rounding-error bound of any summation order (FMA or not): |err| <= (k + 2)·u·(Σ|a·b| + |c0|);
        // doubled for double, whose reference carries an error of the same size.
        double u = typeof(T) == typeof(float) ? Math.Pow(2, -24) : 2 * Math.Pow(2, -53);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double ap = double.CreateChecked(transA ? a[p * m + i] : a[i * k + p]);
                    double bp = double.CreateChecked(transB ? b[j * k + p] : b[p * n + j]);
                    sum += ap * bp;
                    magnitude += Math.Abs(ap * bp);
                }
                double start = accumulate ? double.CreateChecked(c0[i * n + j]) : 0;
                double expected = start + sum;
                double tolerance = (k + 2) * u * (magnitude + Math.Abs(start)) + 1e-300;
                double actual = double.CreateChecked(c[i * n + j]);
                if (!(Math.Abs(actual - expected) <= tolerance))
                    Assert.Fail($"{typeof(T).Name} {m}x{n}x{k} transA={transA} transB={transB} accumulate={accumulate} " +
                                $"isa={Gemm.EffectiveIsa}: C[{i},{j}] = {actual}, expected {expected} ± {tolerance}");
            }
    }

    private static T[] RandomArray<T>(Random rng, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = new T[length];
        for (int i = 0; i < length; i++) x[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return x;
    }

    private static int[] BitsOf(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static bool IsAccelerated(GemmIsa isa) => isa switch
    {
        GemmIsa.Vector512 => Vector512.IsHardwareAccelerated,
        GemmIsa.Vector256 => Vector256.IsHardwareAccelerated,
        GemmIsa.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };
}

/// <summary>The packed-B cache behind MatMul: reused across calls, never stale after an in-place write.</summary>
public class GemmPackCacheTests
{
    private static float[] Naive(float[] x, float[] w, int m, int k, int n)
    {
        var r = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)x[i * k + p] * w[p * n + j];
                r[i * n + j] = (float)s;
            }
        return r;
    }

    [TestCase(3, 40, 70)]      // direct path
    [TestCase(64, 300, 200)]   // blocked path
    [TestCase(64, 800, 130)]   // blocked, several k-blocks
    public void RepeatedUses_AndInPlaceWrites_GiveFreshResults(int m, int k, int n)
    {
        var rng = new Random(3);
        var x = Tensor.Randn<float>(rng, m, k);
        var w = Tensor.Randn<float>(rng, k, n);
        for (int use = 0; use < 4; use++) // first use counts, second packs, later ones reuse
            Assert.That(x.MatMul(w).ToArray(), Is.EqualTo(Naive(x.ToArray(), w.ToArray(), m, k, n)).Within(1e-3f), $"use {use}");

        var fresh = Tensor.Randn<float>(rng, k, n).ToArray();
        w.CopyFrom(fresh);
        Assert.That(x.MatMul(w).ToArray(), Is.EqualTo(Naive(x.ToArray(), fresh, m, k, n)).Within(1e-3f), "after CopyFrom");

        w.MultiplyInPlace(-2f);
        var scaled = fresh.Select(v => -2f * v).ToArray();
        Assert.That(x.MatMul(w).ToArray(), Is.EqualTo(Naive(x.ToArray(), scaled, m, k, n)).Within(2e-3f), "after MultiplyInPlace");
    }

    [Test]
    public void CacheHits_GiveBitwiseTheUncachedResult([Values(false, true)] bool transA, [Values(false, true)] bool transB,
        [Values(1, 5, 32, 200)] int m)
    {
        // A cached (packed) B may change speed, never a result: the same inputs must give the same bits on the
        // first (uncached) and later (cached) calls, on the direct path (small) and the blocked one (large).
        foreach (var (k, n) in new[] { (40, 70), (300, 500) })
        {
            var rng = new Random(m * 31 + k);
            var a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
            var cache = new GemmPackCache<float>();
            var first = new float[m * n];
            Gemm.Multiply<float>(transA, transB, m, n, k, a, b, first, accumulate: false, cache);
            for (int use = 0; use < 3; use++)
            {
                var again = new float[m * n];
                Gemm.Multiply<float>(transA, transB, m, n, k, a, b, again, accumulate: false, cache);
                Assert.That(again, Is.EqualTo(first), $"use {use + 2}, k={k}, n={n}");
            }
            cache.Dispose();
        }
    }

    [Test]
    public void DeferredWeightGradient_FullStagesFlushedRepeatedly_AreEachPackedAfresh()
    {
        // k + n = 2048 makes a stage hold exactly 2048 rows = 32 matmuls of 64 rows, so each flush's B operand is the
        // whole staging storage, the shape the pack cache keeps. 96 matmuls flush three full stages: the third must
        // not reuse the panels packed from the second's contents.
        const int k = 16, n = 2032, rows = 64, steps = 96;
        var rng = new Random(12);
        var w = Tensor.Randn<float>(rng, k, n);
        w.RequiresGrad = true;
        var xs = Enumerable.Range(0, steps).Select(_ => Tensor.Randn<float>(rng, rows, k)).ToArray();
        var cs = Enumerable.Range(0, steps).Select(_ => Tensor.Randn<float>(rng, rows, n)).ToArray();
        var loss = Enumerable.Range(0, steps).Select(t => (xs[t].MatMul(w) * cs[t]).Sum()).Aggregate((a, b) => a + b);
        loss.Backward();

        // dW = Σ_t x_tᵀ c_t, in double.
        var expected = new double[k * n];
        for (int t = 0; t < steps; t++)
        {
            var x = xs[t].ToArray();
            var c = cs[t].ToArray();
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < k; i++)
                {
                    double xi = x[r * k + i];
                    for (int j = 0; j < n; j++) expected[i * n + j] += xi * c[r * n + j];
                }
        }
        var got = w.Grad!.ToArray();
        double worst = Enumerable.Range(0, k * n).Max(i => Math.Abs(got[i] - expected[i]) / (1 + Math.Abs(expected[i])));
        Assert.That(worst, Is.LessThan(1e-4), "float GEMM over 6,144 rows against a double sum");
    }

    [Test]
    public void TransposedUse_InBackward_IsCachedSeparately_AndCorrect()
    {
        var rng = new Random(4);
        var w = Tensor.Randn<float>(rng, 256, 512);
        w.RequiresGrad = true;
        var hs = Enumerable.Range(0, 5).Select(_ => Tensor.Randn<float>(rng, 32, 256)).ToArray();
        foreach (var h in hs) h.RequiresGrad = true;
        var loss = hs.Select(h => h.MatMul(w).Sum()).Aggregate((a, b) => a + b);
        loss.Backward();
        // d/dh Σ(h·W) = 1 · Wᵀ: every row of dh is the row sums of W.
        var wv = w.ToArray();
        var rowSums = Enumerable.Range(0, 256).Select(i => Enumerable.Range(0, 512).Sum(j => (double)wv[i * 512 + j])).ToArray();
        foreach (var h in hs)
        {
            var g = h.Grad!.ToArray();
            for (int r = 0; r < 32; r++)
                for (int i = 0; i < 256; i++)
                    Assert.That(g[r * 256 + i], Is.EqualTo(rowSums[i]).Within(1e-3 * (1 + Math.Abs(rowSums[i]))));
        }
    }
}
