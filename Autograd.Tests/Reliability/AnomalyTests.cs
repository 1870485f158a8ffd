namespace Autograd.Tests.Reliability;

/// <summary>Anomaly mode: non-finite values are caught at the op that made them.</summary>
public class AnomalyTests
{
    [Test]
    public void Forward_NonFiniteOutput_NamesOpShapesAndSite()
    {
        var x = Tensor.FromArray(new[] { -1.0, 1.0 }, 2);
        x.RequiresGrad = true;
        using (Tensor.DetectAnomaly())
        {
            var ex = Assert.Throws<AnomalyException>(() => x.Log());
            Assert.That(ex!.Op, Is.EqualTo("Log"));
            Assert.That(ex.Message, Does.Contain("Log").And.Contain("(2)"));
            Assert.That(ex.CreationSite, Does.Contain(nameof(Forward_NonFiniteOutput_NamesOpShapesAndSite)));
        }
        Assert.That(double.IsNaN(x.Log().ToArray()[0]), Is.True, "outside the scope NaN passes silently");
    }

    [Test]
    public void Backward_NonFiniteGradient_NamesTheOpThatMadeIt()
    {
        var x = Tensor.FromArray(new[] { 0.0, 4.0 }, 1, 2);
        x.RequiresGrad = true;
        using var _ = Tensor.DetectAnomaly();
        var y = x.Pow(0.5) * 3.0; // finite forward; d/dx at 0 is infinite
        var ex = Assert.Throws<AnomalyException>(() => y.Sum().Backward());
        Assert.That(ex!.Op, Is.EqualTo("Pow"));
        Assert.That(ex.Message, Does.Contain("(1, 2)"));
        Assert.That(ex.CreationSite, Does.Contain(nameof(Backward_NonFiniteGradient_NamesTheOpThatMadeIt)));
    }

    [Test]
    public void Backward_WithoutAnomalyMode_DoesNotThrow()
    {
        var x = Tensor.FromArray(new[] { 0.0, 4.0 }, 2);
        x.RequiresGrad = true;
        x.Pow(0.5).Sum().Backward();
        Assert.That(double.IsInfinity(x.Grad!.ToArray()[0]), Is.True);
    }

    [Test]
    public void AnomalyMode_DoesNotReachAnIndependentThread()
    {
        using var _ = Tensor.DetectAnomaly();
        bool other = true;
        var t = new Thread(() => other = Tensor.IsAnomalyDetectionEnabled);
        using (ExecutionContext.SuppressFlow()) t.Start(); // scopes flow with the ExecutionContext, like AsyncLocal
        t.Join();
        Assert.That(Tensor.IsAnomalyDetectionEnabled, Is.True);
        Assert.That(other, Is.False);
    }

    [Test]
    public void FiniteGraph_PassesUnderAnomalyMode()
    {
        var x = Tensor.Randn<double>(new Random(1), 3, 4);
        x.RequiresGrad = true;
        using var _ = Tensor.DetectAnomaly();
        x.Tanh().MatMul(x.Transpose()).LogSoftmax(1).Sum().Backward();
        Assert.That(x.Grad!.ToArray().All(double.IsFinite), Is.True);
    }

    [Test]
    public void FailedBackward_LeavesNoPartialGradientForTheNextPass()
    {
        var x = Tensor.FromArray(new[] { 0.0, 4.0 }, 2);
        x.RequiresGrad = true;
        var w = Tensor.FromArray(new[] { 1.0, 2.0 }, 2);
        var p = x * w;                                   // shared by both passes
        var failing = (p.Pow(0.5) * 3.0).Sum() + p.Sum(); // infinite gradient at x = 0
        using (Tensor.DetectAnomaly())
            Assert.Throws<AnomalyException>(() => failing.Backward(retainGraph: true));
        x.ZeroGrad();
        p.Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 1.0, 2.0 }), "only this pass's gradient reaches x");
    }

    [Test]
    public void FailedBackward_UnderAnomalyMode_PutsEveryLeafGradientBack()
    {
        // PyTorch leaves the leaves' .grad partly accumulated by a failed pass; here they are as before the pass.
        var a = Tensor.FromArray(new[] { 1.0, 2.0 }, 2);
        var b = Tensor.FromArray(new[] { 0.0, 4.0 }, 2);
        var c = Tensor.FromArray(new[] { 3.0, 5.0 }, 2);
        var w = Tensor.FromArray(new[] { 1.0, 0.0, 0.0, 1.0 }, 2, 2);
        foreach (var leaf in new[] { a, b, c, w }) leaf.RequiresGrad = true;
        (a * 2.0).Sum().Backward();
        var aGrad = a.Grad!;
        using (Tensor.DetectAnomaly())
        {
            // The second addend's backward runs first: a, c and w (through a matmul and a view of c) get their
            // gradients, then b's infinite one (d√b at b = 0) fails the pass.
            var loss = (b.Pow(0.5) * 3.0).Sum() + (a * c).Sum() + c.Reshape(1, 2).MatMul(w).Sum();
            Assert.Throws<AnomalyException>(() => loss.Backward());
        }
        Assert.That(a.Grad, Is.SameAs(aGrad), "put back in place: an optimizer holding the tensor sees the old values");
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 2.0, 2.0 }));
        Assert.That(b.Grad, Is.Null);
        Assert.That(c.Grad, Is.Null);
        Assert.That(w.Grad, Is.Null);
        // Nothing of the failed pass lingers: the next pass accumulates onto the old gradient only.
        (a * c).Sum().Backward();
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 5.0, 7.0 }));
        Assert.That(c.Grad!.ToArray(), Is.EqualTo(new[] { 1.0, 2.0 }));
    }
}
