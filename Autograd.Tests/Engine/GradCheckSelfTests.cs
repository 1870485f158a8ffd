namespace Autograd.Tests.Engine;

/// <summary>GradCheck must be able to fail: a deliberately wrong backward is caught and located.</summary>
public class GradCheckSelfTests
{
    /// <summary>
    /// Test-only op: forward is the identity; backward passes the gradient through, except that
    /// it multiplies element <c>wrongElement</c> by <c>factor</c> (factor 1 makes it correct).
    /// </summary>
    private sealed class SkewedIdentityNode(Tensor<double> x, int wrongElement, double factor) : Node<double>(x)
    {
        internal override string Name => "SkewedIdentity";

        internal override void Backward(Tensor<double> output, Autograd.Backends.Buffer<double> gradOutput)
        {
            var dx = Inputs[0].GradBuffer.HostSpan;
            var g = gradOutput.HostSpan;
            for (int i = 0; i < dx.Length; i++) dx[i] += i == wrongElement ? factor * g[i] : g[i];
        }
    }

    private static Tensor<double> SkewedIdentity(Tensor<double> x, int wrongElement, double factor)
    {
        var r = Tensor.FromArray(x.ToArray(), x.Shape.ToArray());
        return Tensor<double>.ShouldRecord(x) ? r.WithCreator(new SkewedIdentityNode(x, wrongElement, factor)) : r;
    }

    private static Tensor<double>[] Inputs()
    {
        var rng = new Random(11);
        return [Tensor.Randn<double>(rng, 2, 3), Tensor.Randn<double>(rng, 2, 3)];
    }

    [Test]
    public void WrongBackward_RaisesGradCheckException_NamingInputAndElement()
    {
        // Input 1, flat element 4 = index [1, 1] of (2, 3); its gradient is off by 10%.
        var ex = Assert.Throws<GradCheckException>(() =>
            GradCheck.Assert(x => (x[0] * SkewedIdentity(x[1], wrongElement: 4, factor: 1.1)).Sum(), Inputs()));
        Assert.That(ex!.Message, Does.Contain("input 1"));
        Assert.That(ex.Message, Does.Contain("element 4"));
        Assert.That(ex.Message, Does.Contain("[1, 1]"));
        Assert.That(ex.Message, Does.Contain("(2, 3)"));
    }

    [Test]
    public void WrongBackward_OnNonScalarOutput_IsCaughtToo()
    {
        // No reduction in the function: GradCheck's random output weighting must still expose it.
        var ex = Assert.Throws<GradCheckException>(() =>
            GradCheck.Assert(x => x[0] + SkewedIdentity(x[1], wrongElement: 0, factor: -1), Inputs()));
        Assert.That(ex!.Message, Does.Contain("input 1").And.Contain("element 0"));
    }

    [Test]
    public void CorrectBackward_ThroughTheSameTestNode_Passes()
    {
        // Control: the only difference from the failing tests is the factor, so they fail for the right reason.
        Assert.DoesNotThrow(() =>
            GradCheck.Assert(x => (x[0] * SkewedIdentity(x[1], wrongElement: 4, factor: 1.0)).Sum(), Inputs()));
    }

    [Test]
    public void MissingGradient_IsCaught()
    {
        // Detaching an input inside the function hides its dependence from backward: the
        // analytical gradient is zero while the numerical one is not.
        var ex = Assert.Throws<GradCheckException>(() =>
            GradCheck.Assert(x => (x[0] * x[1].Detach()).Sum() + x[1].Sum(), Inputs()));
        Assert.That(ex!.Message, Does.Contain("input 1"));
    }

    [Test]
    public void SmallError_BelowTolerance_Passes_LargerOne_Fails()
    {
        // Tolerance is |a - n| ≤ 1e-5 + 1e-3·|n|: a 1e-4 relative error passes, 1e-2 does not.
        var inputs = Inputs();
        Assert.DoesNotThrow(() => GradCheck.Assert(x => SkewedIdentity(x[0], 2, 1 + 1e-4).Sum(), [inputs[0]]));
        Assert.Throws<GradCheckException>(() => GradCheck.Assert(x => SkewedIdentity(x[0], 2, 1 + 1e-2).Sum(), [inputs[0]]));
    }
}
