namespace Autograd.Tests.Engine;

/// <summary>
/// What a hostile tour of the public API broke (issue 13): zero-size axes, overflowing bounds, float
/// reductions at scale, and the PyTorch semantics decided for edge cases. Each test fails on the old engine.
/// </summary>
public class HardeningTests
{
    private static Tensor<double> Leaf(params int[] shape)
    {
        var t = Tensor.Randn<double>(new Random(1), shape);
        t.RequiresGrad = true;
        return t;
    }

    public static IEnumerable<TestCaseData> EmptyCases()
    {
        TestCaseData C(string name, int[] shape, Func<Tensor<double>, Tensor<double>> f, int[] expected)
            => new TestCaseData(shape, f, expected).SetArgDisplayNames(name);
        yield return C("sigmoid (0,3)", [0, 3], x => x.Sigmoid(), [0, 3]);
        yield return C("tanh (3,0)", [3, 0], x => x.Tanh(), [3, 0]);
        yield return C("exp, log, relu, pow", [0, 2], x => x.Exp().Log().Relu().Pow(2), [0, 2]);
        yield return C("negate", [0], x => -x, [0]);
        yield return C("add broadcast (0,3)+(1,3)", [0, 3], x => x + Tensor.Ones<double>(1, 3), [0, 3]);
        yield return C("multiply scalar", [2, 0, 4], x => x * 3.0, [2, 0, 4]);
        yield return C("divide", [0, 3], x => x / Tensor.Ones<double>(3), [0, 3]);
        yield return C("matmul (0,3)@(3,4)", [0, 3], x => x.MatMul(Tensor.Ones<double>(3, 4)), [0, 4]);
        yield return C("matmul k=0 gives zeros", [2, 0], x => x.MatMul(Tensor.Ones<double>(0, 4)), [2, 4]);
        yield return C("transpose", [0, 5], x => x.Transpose(), [5, 0]);
        yield return C("reshape", [0, 6], x => x.Reshape(3, 0, 2), [3, 0, 2]);
        yield return C("slice to empty", [4, 3], x => x.Slice(0, 4, 0), [0, 3]);
        yield return C("slice of empty", [0, 3], x => x.Slice(1, 1, 2), [0, 2]);
        yield return C("concat with empty", [0, 3], x => Tensor.Concat(0, x, Tensor.Ones<double>(2, 3)), [2, 3]);
        yield return C("sum all", [0, 3], x => x.Sum(), []);
        yield return C("sum empty axis", [0, 3], x => x.Sum(0), [3]);
        yield return C("sum over axis of empty", [0, 3], x => x.Sum(1), [0]);
        yield return C("max over non-empty axis", [0, 3], x => x.Max(1), [0]);
        yield return C("logsoftmax", [0, 5], x => x.LogSoftmax(1), [0, 5]);
        yield return C("softmax over empty axis", [2, 0], x => x.Softmax(1), [2, 0]);
        yield return C("stack", [0, 2], x => Tensor.Stack(0, x, x), [2, 0, 2]);
        yield return C("unsqueeze", [0], x => x.Unsqueeze(0), [1, 0]);
        yield return C("index select no ids", [4, 3], x => x.IndexSelect([]), [0, 3]);
    }

    [TestCaseSource(nameof(EmptyCases))]
    public void ZeroSizeAxes_WorkForwardAndBackward(int[] shape, Func<Tensor<double>, Tensor<double>> f, int[] expected)
    {
        var x = Leaf(shape);
        var y = f(x);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(expected));
        y.Sum().Backward();
        Assert.That(x.Grad, Is.Not.Null);
        Assert.That(x.Grad!.Shape.ToArray(), Is.EqualTo(shape));
        // Gradients of the empty results are empty sums: whatever of x feeds them gets exactly 0.
        if (y.Length == 0) Assert.That(x.Grad.ToArray(), Is.All.EqualTo(0.0));
    }

    [Test]
    public void Buffer_WindowOutsideItsStorage_IsRefused()
    {
        // Kernels turn windows into raw pointers, so a public Buffer must never describe memory past its storage.
        var storage = new Autograd.Backends.HostStorage<float>(Autograd.Backends.Backend.Cpu, new float[4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Autograd.Backends.Buffer<float>(storage, 2, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Autograd.Backends.Buffer<float>(storage, -1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Autograd.Backends.Buffer<float>(storage, 5, 0));
        Assert.Throws<ArgumentNullException>(() => _ = new Autograd.Backends.Buffer<float>(null!, 0, 0));
        Assert.That(new Autograd.Backends.Buffer<float>(storage, 4, 0).Length, Is.Zero, "an empty window at the end is fine");
        Assert.That(new Autograd.Backends.Buffer<float>(storage, 1, 3).HostSpan.Length, Is.EqualTo(3));
    }

    [Test]
    public void ZeroSizeAxes_AreRefusedByName_WhereNoValueExists()
    {
        Assert.That(() => Leaf(2, 0).Max(1), Throws.ArgumentException.With.Message.Contains("Max").And.Message.Contains("(2, 0)"));
        Assert.That(() => Leaf(0, 4).CrossEntropy([]), Throws.ArgumentException.With.Message.Contains("CrossEntropy"));
        Assert.That(() => Leaf(0).Item(), Throws.InvalidOperationException.With.Message.Contains("Item"));
    }

    [Test]
    public void Mean_OfEmpty_IsNaN_AsPyTorch()
    {
        Assert.That(Tensor.Zeros<float>(0, 3).Mean().Item(), Is.NaN);
        Assert.That(Tensor.Zeros<float>(0, 3).Mean(0).ToArray(), Is.All.NaN);
    }

    [Test]
    public void Slice_BoundsNeverOverflow()
    {
        Assert.That(() => Tensor.Ones<float>(3).Slice(0, int.MaxValue, 1),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Slice").And.Message.Contains("(3)"));
        Assert.That(() => Tensor.Zeros<float>(0, 3).Slice(1, 1000, 2147483000),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Slice"));
        Assert.That(() => Tensor.Ones<float>(3).Slice(0, 1, int.MaxValue),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("Slice"));
    }

    [Test]
    public void ZeroElementShapes_OfAnySize_AreAccepted_ButOverflowingOnesAreNot()
    {
        var t = Tensor.Zeros<float>(int.MaxValue, 0);
        Assert.That(t.Length, Is.Zero);
        Assert.That(t.Shape.ToArray(), Is.EqualTo(new[] { int.MaxValue, 0 }));
        Assert.That(() => Tensor.Zeros<float>(65536, 65536), Throws.ArgumentException.With.Message.Contains("(65536, 65536)"));
        Assert.That(() => Tensor.Zeros<float>(4, -1), Throws.ArgumentException.With.Message.Contains("negative"));
    }

    [Test]
    public void FloatSum_Of4MillionRows_IsAccurate()
    {
        var sums = Tensor.Full(0.1f, 4_000_000, 2).Sum(0).ToArray();
        double expected = 4_000_000 * (double)0.1f;
        foreach (var s in sums) Assert.That(Math.Abs(s - expected) / expected, Is.LessThan(1e-6));
    }

    [Test]
    public void FloatMean_Of10Million_IsAccurate()
    {
        float mean = Tensor.Full(0.1f, 10_000_000).Mean().Item();
        Assert.That(Math.Abs(mean - (double)0.1f) / 0.1, Is.LessThan(1e-6));
    }

    [Test]
    public void CrossEntropy_OverAMillionPositions_IsAccurate()
    {
        var logits = Tensor.Zeros<float>(1_000_000, 2);
        float loss = logits.CrossEntropy(new int[1_000_000]).Item();
        Assert.That(Math.Abs(loss - Math.Log(2)) / Math.Log(2), Is.LessThan(1e-6));
    }

    [Test]
    public void SquaredNorm_OfHugeFloats_IsFinite()
    {
        var t = Tensor.FromArray(new[] { 1e20f, 1e20f }, 2);
        Assert.That(t.SquaredNorm(), Is.EqualTo(2.0 * (double)1e20f * 1e20f).Within(1e-9).Percent);
    }

    [Test]
    public void Chunk_LikePyTorch_LastChunkSmaller()
    {
        var parts = Tensor.FromArray(Enumerable.Range(0, 5).Select(i => (double)i).ToArray(), 5).Chunk(2, 0);
        Assert.That(parts.Select(p => p.ToArray()), Is.EqualTo(new[] { new[] { 0.0, 1, 2 }, new[] { 3.0, 4 } }));
        // 6 into 4: chunks of 2, only three of them (as torch.chunk).
        Assert.That(Tensor.Ones<double>(6).Chunk(4, 0).Select(p => p.Length), Is.EqualTo(new[] { 2, 2, 2 }));
    }

    [Test]
    public void MatMul_BroadcastsBatchAxes_LikePyTorch()
    {
        var rng = new Random(2);
        var a = Tensor.Randn<double>(rng, 1, 3, 4);
        var b = Tensor.Randn<double>(rng, 2, 4, 5);
        var c = a.MatMul(b);
        Assert.That(c.Shape.ToArray(), Is.EqualTo(new[] { 2, 3, 5 }));
        for (int i = 0; i < 2; i++)
        {
            var expected = a.Reshape(3, 4).MatMul(b.Slice(0, i, 1).Reshape(4, 5)).ToArray();
            Assert.That(c.Slice(0, i, 1).ToArray(), Is.EqualTo(expected).Within(1e-12));
        }
        var x = Tensor.Randn<double>(rng, 2, 1, 3, 4);
        var y = Tensor.Randn<double>(rng, 5, 4, 2);
        Assert.That(x.MatMul(y).Shape.ToArray(), Is.EqualTo(new[] { 2, 5, 3, 2 }));
        GradCheck.Assert(t => t[0].MatMul(t[1]), [Tensor.Randn<double>(rng, 1, 3, 4), Tensor.Randn<double>(rng, 2, 4, 5)]);
        GradCheck.Assert(t => t[0].MatMul(t[1]), [Tensor.Randn<double>(rng, 2, 1, 2, 3), Tensor.Randn<double>(rng, 3, 3, 2)]);
        Assert.That(() => Tensor.Ones<double>(2, 3, 4).MatMul(Tensor.Ones<double>(3, 4, 5)),
            Throws.ArgumentException.With.Message.Contains("(2, 3, 4)").And.Message.Contains("(3, 4, 5)"));
        Assert.That(() => Tensor.Ones<double>(4).MatMul(Tensor.Ones<double>(4, 5)),
            Throws.ArgumentException.With.Message.Contains("vector"));
    }
}
