namespace Autograd.Tests.Engine;

/// <summary>
/// Views (reshapes, contiguous slices) receive their gradient as a window of their source's, so their backward
/// copies nothing. These graphs mix views of views, views used several times, a source also used directly,
/// overlapping slices and leaves as sources, and check every gradient against finite differences.
/// </summary>
public class ViewGradientTests
{
    private static Tensor<double> R(int seed, params int[] shape) => Tensor.Randn<double>(new Random(seed), shape);

    [Test]
    public void ViewsOfViews_SharedAndOverlapping_MatchFiniteDifferences()
    {
        GradCheck.Assert(x =>
        {
            var a = x[0];                                   // (4, 3, 2)
            var step1 = a.Slice(0, 1, 1).Reshape(3, 2);      // view of a view
            var step2 = a.Slice(0, 1, 2).Reshape(6, 2);      // overlaps step1
            var flat = a.Reshape(24);                        // the whole source again
            var y = (step1 * step1).Sum() + (step2.Tanh() * 2.0).Sum() + (flat * x[1].Reshape(24)).Sum() + (a * 0.5).Sum();
            return y + step1.Slice(0, 2, 1).Sum();           // a view of a view of a view
        }, [R(1, 4, 3, 2), R(2, 2, 12)]);
    }

    [Test]
    public void TimeMajorSteps_AsRecurrentLayersUseThem_MatchFiniteDifferences()
    {
        GradCheck.Assert(x =>
        {
            var xs = x[0].Reshape(5, 2, 3);                  // (time, batch, features)
            var h = Tensor.Zeros<double>(2, 3);
            for (int t = 0; t < 5; t++) h = (xs.Slice(0, t, 1).Reshape(2, 3) + h.MatMul(x[1])).Tanh();
            return h.Sum();
        }, [R(3, 30), R(4, 3, 3)]);
    }

    [Test]
    public void ViewOfALeaf_AddsIntoTheLeafsGradient_AcrossPasses()
    {
        var w = R(5, 4, 3);
        w.RequiresGrad = true;
        (w.Slice(0, 1, 2).Reshape(6) * 3.0).Sum().Backward();
        (w.Reshape(12) * 2.0).Sum().Backward();
        var g = w.Grad!.ToArray();
        for (int i = 0; i < 12; i++)
            Assert.That(g[i], Is.EqualTo(i is >= 3 and < 9 ? 5.0 : 2.0), $"element {i}");
    }
}
