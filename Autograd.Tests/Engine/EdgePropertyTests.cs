using System.Numerics;
using CsCheck;
using static Autograd.Tests.Engine.OpPropertyTests;

namespace Autograd.Tests.Engine;

/// <summary>
/// Issue 13's property tests (CsCheck, fixed seeds, the op families of <see cref="OpPropertyTests"/>):
/// every op on shapes whose axes are mostly 0 or 1; starts, lengths, sizes, ids and chunk counts up to
/// <see cref="int.MaxValue"/> for Slice, Reshape, IndexSelect and Chunk, against PyTorch's rules computed in
/// exact arithmetic; float reductions of about 10^7 elements against a double-precision naive sum.
/// </summary>
public class EdgePropertyTests
{
    private const ulong Seed = 20261303;

    /// <summary>Axis sizes 0 or 1 three times in four, else 2 or 3 (shrinks towards 0).</summary>
    private static readonly Gen<int> EdgeDim = Gen.Int[0, 7].Select(i => i < 3 ? 0 : i < 6 ? 1 : i - 4);

    /// <summary>Small values most of the time; otherwise -1, the extremes, or values just below int.MaxValue.</summary>
    private static readonly Gen<int> BoundaryInt = Gen.Int[0, 9].SelectMany(k => k switch
    {
        0 => Gen.Const(int.MaxValue),
        1 => Gen.Const(int.MinValue),
        2 => Gen.Int[int.MaxValue - 4, int.MaxValue],
        3 => Gen.Const(int.MaxValue / 2 + 1),
        4 => Gen.Const(-1),
        5 => Gen.Const(65536),
        _ => Gen.Int[0, 5],
    });

    public static IEnumerable<TestCaseData> EdgeFamilies()
        => FamiliesOf(EdgeDim, EdgeDim).Select(f => new TestCaseData(f.Gen, Math.Max(20, f.Iterations / 3)).SetArgDisplayNames(f.Name));

    /// <summary>
    /// Forward against the naive loops (NaN for the mean of nothing, as PyTorch); backward by finite differences
    /// where the output has elements, else a backward pass that gives every input a zero gradient of its shape.
    /// </summary>
    [TestCaseSource(nameof(EdgeFamilies))]
    public void ZeroAndOneSizedAxes_EveryOp_ForwardAndBackward(Gen<OpCase> family, int iterations)
    {
        int empty = 0;
        Property(family, iterations, row =>
        {
            OpTableTests.CheckForward(row);
            var inputs = row.MakeInputs();
            var output = row.Function(inputs);
            if (output.Length > 0 && inputs.Any(t => t.Length > 0))
            {
                OpTableTests.CheckGradient(row);
                return;
            }
            empty++;
            foreach (var t in inputs) t.RequiresGrad = true;
            output = row.Function(inputs);
            output.Backward(Tensor.Ones<double>(output.Shape.ToArray()));
            foreach (var t in inputs)
            {
                Assert.That(t.Grad!.Shape.ToArray(), Is.EqualTo(t.Shape.ToArray()), row.Name);
                Assert.That(t.Grad.ToArray(), Is.All.EqualTo(0.0), row.Name);
            }
        });
        TestContext.Out.WriteLine($"{iterations} cases, {empty} with nothing to differentiate");
    }

    [Test]
    public void ZeroSizedAxes_WhereNoValueExists_AreRefusedByName()
    {
        var gen = Shape(1, 3, EdgeDim).Where(s => s.Contains(0)).Select(Gen.Bool, (s, ce) => (s, ce));
        foreach (var (s, ce) in Sample(gen, 40))
        {
            var x = Tensor.Zeros<double>(s);
            int empty = Array.IndexOf(s, 0);
            var e = ce
                ? Assert.Throws<ArgumentException>(() => x.CrossEntropy(new int[x.Length / Math.Max(1, s[^1])]))!
                : Assert.Catch<ArgumentException>(() => x.Max(empty))!;
            Assert.That(e.Message, Does.Contain(ce ? "CrossEntropy" : "Max").And.Contain(Tensor.FormatShape(s)));
        }
    }

    /// <summary>Slice(axis, start, length) exists iff the axis exists and 0 ≤ start ≤ start + length ≤ size (PyTorch's narrow).</summary>
    [Test]
    public void Slice_BoundaryStartsAndLengths()
    {
        var small = Gen.Int[0, 3].SelectMany(k => k == 0 ? BoundaryInt : Gen.Int[0, 4]);
        var gen = Shape(1, 3, Gen.Int[0, 4]).SelectMany(s => Gen.Int[-s.Length, s.Length - 1].Select(small, small, Gen.Int[0, 4],
            (axis, start, length, wild) => (s, axis: wild == 0 ? start : axis, start, length)));
        int valid = 0;
        foreach (var (s, axis, start, length) in Sample(gen, 400))
        {
            var x = Filled(s);
            bool axisOk = axis >= -s.Length && axis < s.Length;
            int size = axisOk ? s[axis < 0 ? axis + s.Length : axis] : 0;
            if (axisOk && start >= 0 && length >= 0 && (long)start + length <= size)
            {
                valid++;
                var y = x.Slice(axis, start, length);
                Assert.That(y.ToArray(), Is.EqualTo(Naive.Slice(x.ToArray(), s, axis, start, length)));
                Assert.That(y.Size(axis), Is.EqualTo(length));
            }
            else
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => x.Slice(axis, start, length), $"{Tensor.FormatShape(s)} axis {axis} [{start}+{length}]")!;
                Assert.That(e.Message, Does.Contain("Slice"));
            }
        }
        Assert.That(valid, Is.GreaterThan(40), "both outcomes are exercised");
    }

    /// <summary>
    /// Reshape succeeds iff at most one size is -1, none is otherwise negative, and the sizes' product (exact)
    /// equals the element count, or with -1 the others' product is non-zero and divides it.
    /// </summary>
    [Test]
    public void Reshape_BoundarySizes()
    {
        var gen = Shape(0, 3, Gen.Int[0, 4]).Select(Gen.Int[0, 4].SelectMany(r => Gen.Int[0, 2].SelectMany(k => k == 0 ? BoundaryInt : k == 1 ? Gen.Int[0, 6] : Gen.Const(-1)).Array[r]),
            (s, target) => (s, target));
        int valid = 0;
        foreach (var (s, target) in Sample(gen, 400))
        {
            var x = Filled(s);
            var expected = ReshapedShape(x.Length, target);
            if (expected is not null)
            {
                valid++;
                var y = x.Reshape(target);
                Assert.That(y.Shape.ToArray(), Is.EqualTo(expected), $"{Tensor.FormatShape(s)} to {Tensor.FormatShape(target)}");
                Assert.That(y.ToArray(), Is.EqualTo(x.ToArray()));
            }
            else
            {
                var e = Assert.Throws<ArgumentException>(() => x.Reshape(target), $"{Tensor.FormatShape(s)} to {Tensor.FormatShape(target)}")!;
                Assert.That(e.Message, Does.Contain("Reshape"));
            }
        }
        Assert.That(valid, Is.GreaterThan(40), "both outcomes are exercised");

        // Products past long: 65536⁴ = 2⁶⁴ wraps to 0, the element count of an empty tensor.
        Assert.That(() => Tensor.Zeros<double>(0).Reshape(65536, 65536, 65536, 65536), Throws.ArgumentException.With.Message.Contains("Reshape"));
        Assert.That(ReshapedShape(0, [65536, 65536, 65536, 65536]), Is.Null);
        Assert.That(Tensor.Zeros<double>(0).Reshape(65536, 65536, 65536, -1).Shape.ToArray(), Is.EqualTo(ReshapedShape(0, [65536, 65536, 65536, -1])));
    }

    private static int[]? ReshapedShape(int length, int[] target)
    {
        if (target.Count(d => d == -1) > 1 || target.Any(d => d < -1)) return null;
        BigInteger known = target.Where(d => d != -1).Aggregate(BigInteger.One, (p, d) => p * d);
        int infer = Array.IndexOf(target, -1);
        if (infer < 0) return known == length ? target : null;
        if (known.IsZero || length % known != 0) return null;
        var shape = (int[])target.Clone();
        shape[infer] = (int)(length / known);
        return shape;
    }

    /// <summary>IndexSelect succeeds iff every id is in [0, rows); the message names the first bad id and its position.</summary>
    [Test]
    public void IndexSelect_BoundaryIds()
    {
        var gen = Shape(1, 3, Gen.Int[0, 4]).Select(Gen.Bool.SelectMany(wild => wild ? BoundaryInt : Gen.Int[0, 3]).Array[0, 4], (s, ids) => (s, ids));
        int valid = 0;
        foreach (var (s, ids) in Sample(gen, 400))
        {
            var x = Filled(s);
            int bad = Array.FindIndex(ids, i => i < 0 || i >= s[0]);
            if (bad < 0)
            {
                valid++;
                Assert.That(x.IndexSelect(ids).ToArray(), Is.EqualTo(Naive.IndexSelect(x.ToArray(), s, ids)));
            }
            else
            {
                var e = Assert.Throws<ArgumentOutOfRangeException>(() => x.IndexSelect(ids))!;
                Assert.That(e.Message, Does.Contain("IndexSelect").And.Contain($"index {ids[bad]} at position {bad}"));
            }
        }
        Assert.That(valid, Is.GreaterThan(40), "both outcomes are exercised");
    }

    /// <summary>
    /// Chunk as torch.chunk: parts of ⌈size / chunks⌉ (computed exactly), the last smaller, never an empty part
    /// (one empty part for an empty axis); joined back they are the input. Chunk counts up to int.MaxValue.
    /// </summary>
    [Test]
    public void Chunk_BoundaryCounts()
    {
        var gen = Shape(1, 3, Gen.Int[0, 5]).SelectMany(s => Gen.Int[-s.Length, s.Length - 1].Select(BoundaryInt, (axis, chunks) => (s, axis, chunks)));
        int valid = 0;
        foreach (var (s, axis, chunks) in Sample(gen, 400))
        {
            var x = Filled(s);
            if (chunks <= 0)
            {
                Assert.That(() => x.Chunk(chunks, axis), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Chunk"));
                continue;
            }
            valid++;
            int ax = axis < 0 ? axis + s.Length : axis;
            long size = s[ax], part = size == 0 ? 0 : (size + chunks - 1) / chunks;
            long[] expected = size == 0 ? [0] : Enumerable.Range(0, (int)((size + part - 1) / part)).Select(i => Math.Min(part, size - i * part)).ToArray();
            var parts = x.Chunk(chunks, axis);
            Assert.That(parts.Select(p => (long)p.Size(ax)), Is.EqualTo(expected), $"{Tensor.FormatShape(s)} into {chunks} along {axis}");
            Assert.That(Tensor.Concat(ax, parts).ToArray(), Is.EqualTo(x.ToArray()));
        }
        Assert.That(valid, Is.GreaterThan(40), "both outcomes are exercised");
    }

    public static IEnumerable<TestCaseData> Reductions()
    {
        TestCaseData R(string name, Func<Tensor<float>, double[]> ours, Func<float[], double[]> naive, int rows, int columns)
            => new TestCaseData(ours, naive, rows, columns).SetArgDisplayNames(name);
        yield return R("Sum() of 10^7", t => [t.Sum().Item()], x => [NaiveSum(x, 0, 1, x.Length)], 10_000_000, 1);
        yield return R("Mean() of 10^7", t => [t.Mean().Item()], x => [NaiveSum(x, 0, 1, x.Length) / x.Length], 10_000_000, 1);
        yield return R("Sum(0) of (5·10^6, 2)", t => t.Sum(0).ToArray().Select(v => (double)v).ToArray(),
            x => [NaiveSum(x, 0, 2, x.Length / 2), NaiveSum(x, 1, 2, x.Length / 2)], 5_000_000, 2);
        yield return R("Sum(1) of (2, 5·10^6)", t => t.Reshape(2, -1).Sum(1).ToArray().Select(v => (double)v).ToArray(),
            x => [NaiveSum(x, 0, 1, x.Length / 2), NaiveSum(x, x.Length / 2, 1, x.Length / 2)], 10_000_000, 1);
        yield return R("SquaredNorm of 10^7", t => [t.SquaredNorm()], x => [x.Sum(v => (double)v * v)], 10_000_000, 1);
    }

    private static double NaiveSum(float[] x, int start, int stride, int count)
    {
        double s = 0;
        for (int i = 0; i < count; i++) s += x[start + i * stride];
        return s;
    }

    /// <summary>
    /// Float reductions of about 10^7 non-negative values (random offset, spread and length) are within 1e-6
    /// relative of the sum accumulated naively in double. Two cases per reduction keep CI short.
    /// </summary>
    [TestCaseSource(nameof(Reductions))]
    public void LargeFloatReductions_MatchADoubleSum(Func<Tensor<float>, double[]> ours, Func<float[], double[]> naive, int rows, int columns)
    {
        var gen = Gen.Double[0, 10].Select(Gen.Double[0.001, 1], Gen.Int[0, 999], Gen.Int[0, 1 << 20], (offset, spread, extra, seed) => (offset, spread, extra, seed));
        foreach (var (offset, spread, extra, seed) in Sample(gen, 2))
        {
            int r = rows + (columns == 1 && rows % 2 == 0 ? 2 * (extra / 2) : extra);
            var rng = new Random(seed);
            var data = new float[r * columns];
            for (int i = 0; i < data.Length; i++) data[i] = (float)(offset + spread * rng.NextDouble());
            var actual = ours(Tensor.FromArray(data, r, columns).Reshape(columns == 1 ? [-1] : [r, columns]));
            var expected = naive(data);
            for (int i = 0; i < expected.Length; i++)
                Assert.That(Math.Abs(actual[i] - expected[i]) / expected[i], Is.LessThanOrEqualTo(1e-6), $"offset {offset}, spread {spread}, {data.Length} values, result {i}");
        }
    }

    [Test]
    public void LargeCrossEntropy_MatchesADoubleComputation()
    {
        var gen = Gen.Double[0.1, 4].Select(Gen.Int[0, 1 << 20], (scale, seed) => (scale, seed));
        foreach (var (scale, seed) in Sample(gen, 2))
        {
            const int N = 1_000_000, C = 3;
            var rng = new Random(seed);
            var logits = new float[N * C];
            for (int i = 0; i < logits.Length; i++) logits[i] = (float)(scale * (2 * rng.NextDouble() - 1));
            var targets = Enumerable.Range(0, N).Select(_ => rng.Next(C)).ToArray();
            double expected = 0;
            for (int n = 0; n < N; n++)
            {
                double m = Enumerable.Range(0, C).Max(c => (double)logits[n * C + c]);
                double lse = m + Math.Log(Enumerable.Range(0, C).Sum(c => Math.Exp(logits[n * C + c] - m)));
                expected += lse - logits[n * C + targets[n]];
            }
            expected /= N;
            float loss = Tensor.FromArray(logits, N, C).CrossEntropy(targets).Item();
            Assert.That(Math.Abs(loss - expected) / expected, Is.LessThanOrEqualTo(1e-6), $"scale {scale}");
        }
    }

    /// <summary>Row-major 0, 1, 2, ... so that any misplaced element shows.</summary>
    private static Tensor<double> Filled(int[] s)
    {
        int n = s.Aggregate(1, (a, b) => a * b);
        return Tensor.FromArray(Enumerable.Range(0, n).Select(i => (double)i).ToArray(), s);
    }

    /// <summary>A fixed-seed sample (deterministic in CI).</summary>
    private static List<T> Sample<T>(Gen<T> gen, int n)
    {
        var pcg = new PCG(1, Seed);
        return Enumerable.Range(0, n).Select(_ => gen.Generate(pcg, null!, out Size _)).ToList();
    }
}
