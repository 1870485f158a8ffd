using System.Runtime.ExceptionServices;

namespace Autograd.Tests.Engine;

/// <summary>The engine's graph semantics: depth, no-grad, detach, accumulation, graph release, precision.</summary>
public class GraphBehaviourTests
{
    private static Tensor<double> Leaf(double[] data, params int[] shape)
    {
        var t = Tensor.FromArray(data, shape);
        t.RequiresGrad = true;
        return t;
    }

    private static Tensor<double> Leaf(double v) => Leaf([v]);

    /// <summary>Runs <paramref name="body"/> on a fresh thread with the given stack size and rethrows its failure here.</summary>
    private static void OnThread(Action body, int maxStackSize = 0)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { failure = ExceptionDispatchInfo.Capture(e); }
        }, maxStackSize);
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    [Test]
    public void LongChain_800kOps_BackwardOnOneMegabyteStack_GivesExactDerivative()
    {
        const int steps = 800_000;
        const double k = 1.000001;
        double value = 0, grad = 0;
        OnThread(() =>
        {
            var x = Leaf(0.5);
            var factor = Tensor.Scalar(k); // one shared constant keeps the chain's memory small
            var y = x;
            for (int i = 0; i < steps; i++) y = y * factor;
            y.Backward();
            value = y.Item();
            grad = x.Grad!.Item();
        }, maxStackSize: 1024 * 1024);

        // d/dx (x·kⁿ) = kⁿ; 800k roundings in each direction stay far below 1e-9 relative.
        double expected = Math.Pow(k, steps);
        Assert.That(grad, Is.EqualTo(expected).Within(1e-9 * expected));
        Assert.That(value, Is.EqualTo(0.5 * expected).Within(1e-9 * expected));
    }

    [Test]
    public void LongChain_AlternatingAddAndMultiply_GivesExactDerivative()
    {
        // y ← (y + 1) · 0.5 repeated: dy/dx = 0.5ⁿ exactly representable for n = 1000 (2⁻¹⁰⁰⁰).
        const int steps = 1000;
        var x = Leaf(3.0);
        var y = x;
        for (int i = 0; i < steps; i++) y = (y + 1.0) * 0.5;
        y.Backward();
        Assert.That(x.Grad!.Item(), Is.EqualTo(Math.Pow(2, -steps)));
        Assert.That(y.Item(), Is.EqualTo(1.0).Within(1e-12)); // fixed point of y → (y+1)/2
    }

    [Test]
    public void NoGrad_RecordsNothing_AndRestoresOnDispose()
    {
        var x = Leaf([1, 2, 3], 3);
        Tensor<double> y;
        using (Tensor.NoGrad())
        {
            y = (x * 2.0).Exp().Sum();
            Assert.That(Tensor.IsGradEnabled, Is.False);
            using (Tensor.NoGrad()) { }
            Assert.That(Tensor.IsGradEnabled, Is.False, "an inner scope's dispose must not re-enable an outer one");
        }
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.IsLeaf, Is.True);
        Assert.Throws<InvalidOperationException>(() => y.Backward());

        var z = (x * 2.0).Sum();
        Assert.That(z.RequiresGrad, Is.True, "recording resumes after the scope");
        Assert.That(z.IsLeaf, Is.False);
    }

    [Test]
    public void NoGrad_DoesNotReachAnIndependentThread()
    {
        var x = Leaf([1, 2], 2);
        bool otherThreadRecords = false, otherThreadLeaf = true;
        using (Tensor.NoGrad())
        {
            // Scopes flow with the ExecutionContext (as AsyncLocal does); a thread started without it is independent.
            using (ExecutionContext.SuppressFlow()) OnThread(() =>
            {
                var y = x * 3.0;
                otherThreadRecords = y.RequiresGrad;
                otherThreadLeaf = y.IsLeaf;
            });
            Assert.That((x * 3.0).RequiresGrad, Is.False, "this thread is still inside NoGrad");
        }
        Assert.That(otherThreadRecords, Is.True);
        Assert.That(otherThreadLeaf, Is.False);
    }

    [Test]
    public void Detach_CutsHistory()
    {
        var x = Leaf(2.0);
        var d = (x * 3.0).Detach();
        Assert.That(d.IsLeaf, Is.True);
        Assert.That(d.RequiresGrad, Is.False);
        Assert.That(d.Item(), Is.EqualTo(6.0));

        var z = d * x + x; // z = 6x + x with the 6 treated as a constant
        z.Backward();
        Assert.That(x.Grad!.Item(), Is.EqualTo(7.0)); // not 6 + 3·2 + 1 = 13
    }

    [Test]
    public void Gradients_AccumulateOverPasses_UntilZeroGrad()
    {
        var x = Leaf([1, 2, 3], 3);
        (x * x).Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2.0, 4, 6 }));
        (x * x).Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 4.0, 8, 12 }));
        var grad = x.Grad;
        x.ZeroGrad();
        // PyTorch's zero_grad(set_to_none=False): the same persistent tensor, zeroed in place.
        Assert.That(x.Grad, Is.SameAs(grad));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 0.0, 0, 0 }));
        (x * 5.0).Sum().Backward();
        Assert.That(x.Grad, Is.SameAs(grad));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 5.0, 5, 5 }));
    }

    [Test]
    public void ZeroGrad_BeforeAnyPass_LeavesGradNull()
    {
        var x = Leaf([1, 2, 3], 3);
        x.ZeroGrad();
        Assert.That(x.Grad, Is.Null);
    }

    [Test]
    public void SecondBackward_WithoutRetainGraph_Throws()
    {
        var x = Leaf(3.0);
        var y = (x * x).Exp() + x;
        y.Backward();
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.That(ex!.Message, Does.Contain("retainGraph"));
    }

    [Test]
    public void SecondBackward_WithRetainGraph_DoublesTheGradient()
    {
        var x = Leaf(0.5);
        var y = (x * x).Exp() + x; // dy/dx = 2x·e^(x²) + 1
        double once = 2 * 0.5 * Math.Exp(0.25) + 1;
        y.Backward(retainGraph: true);
        Assert.That(x.Grad!.Item(), Is.EqualTo(once).Within(1e-14));
        y.Backward(retainGraph: true);
        Assert.That(x.Grad!.Item(), Is.EqualTo(2 * once).Within(1e-14));
        y.Backward(); // the last pass may release
        Assert.That(x.Grad!.Item(), Is.EqualTo(3 * once).Within(1e-14));
    }

    [Test]
    public void Backward_WithExplicitGradient_WeightsEachOutput()
    {
        var x = Leaf([1, 2, 3], 3);
        var y = x * x;
        y.Backward(Tensor.FromArray(new[] { 1.0, 10, 100 }, 3));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 2.0, 40, 600 }));
    }

    [Test]
    public void InputsThatDoNotRequireGrad_GetNoGradient()
    {
        var rng = new Random(3);
        var x = Tensor.Randn<double>(rng, 2, 3);            // data: no grad
        var w = Tensor.Randn<double>(rng, 3, 4); w.RequiresGrad = true;
        var b = Tensor.Randn<double>(rng, 4);                // constant bias
        var loss = (x.MatMul(w) + b).Tanh().Sum();
        loss.Backward();
        Assert.That(w.Grad, Is.Not.Null);
        Assert.That(x.Grad, Is.Null);
        Assert.That(b.Grad, Is.Null);
    }

    [Test]
    public void NothingRequiresGrad_NothingIsRecorded()
    {
        var rng = new Random(4);
        var x = Tensor.Randn<double>(rng, 2, 3);
        var y = (x * 2.0).Exp().Softmax(-1).Sum();
        Assert.That(y.RequiresGrad, Is.False);
        Assert.That(y.IsLeaf, Is.True);
    }

    [Test]
    public void FloatAndDouble_AgreeWithinFloatTolerance()
    {
        var rng = new Random(5);
        double[] xd = Tensor.Randn<double>(rng, 3, 4).ToArray();
        double[] wd = Tensor.Randn<double>(rng, 4, 5).ToArray();
        double[] bd = Tensor.Randn<double>(rng, 5).ToArray();

        (double[] Value, double[] Dx, double[] Dw, double[] Db) Run<TF>(Func<double, TF> cast, Func<TF, double> back)
            where TF : unmanaged, System.Numerics.IFloatingPointIeee754<TF>
        {
            var x = Tensor.FromArray(xd.Select(cast).ToArray(), 3, 4); x.RequiresGrad = true;
            var w = Tensor.FromArray(wd.Select(cast).ToArray(), 4, 5); w.RequiresGrad = true;
            var b = Tensor.FromArray(bd.Select(cast).ToArray(), 5); b.RequiresGrad = true;
            var h = (x.MatMul(w) + b).Tanh();
            var loss = (h.LogSoftmax(-1) * h.Sigmoid()).Mean() + (x.Pow(TF.CreateChecked(2)) / (b.Exp().Sum() + x.Relu().Sum())).Sum();
            loss.Backward();
            return ([back(loss.Item())], x.Grad!.ToArray().Select(back).ToArray(),
                    w.Grad!.ToArray().Select(back).ToArray(), b.Grad!.ToArray().Select(back).ToArray());
        }

        var d = Run(v => v, v => v);
        var f = Run(v => (float)v, v => v);
        void Close(double[] a, double[] e, string what)
        {
            for (int i = 0; i < a.Length; i++)
                Assert.That(a[i], Is.EqualTo(e[i]).Within(1e-5 + 1e-4 * Math.Abs(e[i])), $"{what}[{i}]");
        }
        Close(f.Value, d.Value, "loss");
        Close(f.Dx, d.Dx, "dx");
        Close(f.Dw, d.Dw, "dw");
        Close(f.Db, d.Db, "db");
    }

    [Test]
    public void SharedSubgraph_EachNodeBackwardRunsOnce()
    {
        // A diamond repeated 30 times: a naive recursive walk would take 2³⁰ paths.
        // y ← y·y' + y with y' = y (same tensor): dy_next/dy = 2y + 1.
        var x = Leaf(0.1);
        var y = x;
        double v = 0.1, dv = 1;
        for (int i = 0; i < 30; i++)
        {
            y = y * y * 1e-3 + y;
            dv *= 2e-3 * v + 1;
            v = v * v * 1e-3 + v;
        }
        y.Backward();
        Assert.That(y.Item(), Is.EqualTo(v).Within(1e-15));
        Assert.That(x.Grad!.Item(), Is.EqualTo(dv).Within(1e-12));
    }
}
