using Autograd;

namespace Autograd.Tests.Engine;

/// <summary>The seed's worked examples (seed.md section 1), verbatim.</summary>
public class SeedExamplesTests
{
    private static Tensor<double> Leaf(double v)
    {
        var t = Tensor.Scalar(v);
        t.RequiresGrad = true;
        return t;
    }

    [Test]
    public void LinearChain_GivesFour()
    {
        var a = Leaf(3);
        var b = a * 4.0;
        var c = b + 5.0;
        c.Backward();
        Assert.That(a.Grad!.Item(), Is.EqualTo(4.0));
        Assert.That(c.Item(), Is.EqualTo(17.0));
    }

    [Test]
    public void SharedValue_GivesSeventyFiveAndThirtyFive()
    {
        var a = Leaf(3);
        var b = a * 4.0;
        var c = b + 3.0;
        var d = c * (a + 2.0);
        d.Backward();
        Assert.That(d.Item(), Is.EqualTo(75.0));
        Assert.That(a.Grad!.Item(), Is.EqualTo(35.0)); // 8a + 11
        static double F(double x) => (4 * x + 3) * (x + 2);
        Assert.That((F(3.01) - F(2.99)) / 0.02, Is.EqualTo(35.0).Within(1e-9));
    }

    [Test]
    public void ReuseOfOneValue_AccumulatesOnce()
    {
        // The seed's recursive NumberWithGrad returns 12 here: it re-sends b's already
        // accumulated gradient down to a on its second use. One topological pass gives 8.
        var a = Leaf(3);
        var b = a * 4.0;
        var c = b + b;
        c.Backward();
        Assert.That(a.Grad!.Item(), Is.EqualTo(8.0));
    }
}
