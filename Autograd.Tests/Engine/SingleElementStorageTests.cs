using Autograd.Backends;

namespace Autograd.Tests.Engine;

/// <summary>
/// A single-element storage holds its element inline (no array): scalar graphs then cost one object less per op.
/// Expected values come from Math.Tanh by hand, not from the engine.
/// </summary>
public class SingleElementStorageTests
{
    /// <summary>z = tanh(x·y + x) at x = 0.5, y = -2: z = tanh(-0.5), dz/dx = (1 - z²)(y + 1), dz/dy = (1 - z²)x.</summary>
    private static void CheckGraph(Tensor<double> x, Tensor<double> y, Func<Tensor<double>> forward)
    {
        var z = forward();
        double t = Math.Tanh(-0.5);
        Assert.That(z.Item(), Is.EqualTo(t).Within(1e-15)); // before backward: in a Recycling scope that releases z
        z.Backward();
        Assert.That(x.Grad!.Item(), Is.EqualTo((1 - t * t) * (-2.0 + 1)).Within(1e-15));
        Assert.That(y.Grad!.Item(), Is.EqualTo((1 - t * t) * 0.5).Within(1e-15));
    }

    private static (Tensor<double> X, Tensor<double> Y) Leaves()
    {
        var x = Tensor.Scalar(0.5);
        var y = Tensor.Scalar(-2.0);
        x.RequiresGrad = y.RequiresGrad = true;
        return (x, y);
    }

    [Test]
    public void CpuScalar_IsOneInlineStorage_ThatTheReferenceKernelsRead()
    {
        var saved = Backend.Current;
        try
        {
            Backend.Current = Backend.Cpu;
            var (x, y) = Leaves();
            Assert.That(x.Storage, Is.InstanceOf<HostStorage<double>>());
            Assert.That(((HostStorage<double>)x.Storage).Array, Is.Null, "a scalar's element lives in its storage object");
            Assert.That(x.AsSpan().ToArray(), Is.EqualTo(new[] { 0.5 }));
            // Both shipped backends use host memory: CPU-made scalars must work under the reference kernels too.
            Backend.Current = Backend.Reference;
            CheckGraph(x, y, () => (x * y + x).Tanh());
        }
        finally
        {
            Backend.Current = saved;
        }
    }

    [Test]
    public void ScalarGraph_InRecyclingScope_ReusesPooledSingles_WithTheSameResults()
    {
        var saved = Backend.Current;
        try
        {
            Backend.Current = Backend.Cpu;
            for (int pass = 0; pass < 3; pass++)
            {
                // Each pass recycles the previous pass's scalar temporaries and gradients.
                var (x, y) = Leaves();
                using (Tensor.Recycling()) CheckGraph(x, y, () => (x * y + x).Tanh());
            }
        }
        finally
        {
            Backend.Current = saved;
        }
    }

    [Test]
    public void InlineStorage_StartsAtZero_AndIsWritableThroughItsElements()
    {
        var s = new HostStorage<float>(Backend.Cpu);
        Assert.That(s.Length, Is.EqualTo(1));
        Assert.That(s.Elements[0], Is.Zero);
        s.Elements[0] = 3f;
        Assert.That(new Buffer<float>(s, 0, 1).HostSpan[0], Is.EqualTo(3f));
        Assert.Throws<ArgumentNullException>(() => _ = new HostStorage<float>(null!));
    }
}
