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
}
