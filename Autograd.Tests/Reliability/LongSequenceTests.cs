using Autograd.Nn;
using Autograd.Nn.Reference;
using Autograd.Tests.Golden;

namespace Autograd.Tests.Reliability;

/// <summary>Scale in time: 10,000 steps through the composed LSTM, on a 1 MB stack.</summary>
public class LongSequenceTests
{
    [Test]
    public void Lstm_TenThousandSteps_ForwardBackward_MatchesReference_OnSmallStack()
    {
        const int B = 2, T = 10_000, F = 4, H = 32, O = 3;
        Exception? failure = null;
        string report = "";
        // The default 1 MB stack: a recursive backward would overflow long before 10,000 steps.
        var thread = new Thread(() =>
        {
            try { report = Run(); }
            catch (Exception e) { failure = e; }
        }, maxStackSize: 1024 * 1024);
        thread.Start();
        thread.Join();
        if (failure is not null) throw new AssertionException("10,000-step LSTM failed: " + failure);
        TestContext.Out.WriteLine(report);

        static string Run()
        {
            var rng = new Random(8);
            var reference = new ReferenceLayer<double>(ReferenceCellKind.Lstm, F, H, O);
            reference.Parameters.Randomize(rng, 0.3);
            var layer = new LstmLayer<double>(H, O);
            var refModel = new ReferenceModel<double>(reference);
            var state = refModel.StateDict().ToDictionary(p => p.Key["layers.0.".Length..], p => p.Value);
            layer.LoadStateDict(state);

            var x = Tensor.Randn<double>(rng, B, T, F);
            x.RequiresGrad = true;
            var dy = Tensor.Randn<double>(rng, B, T, O);

            long before = GC.GetTotalMemory(forceFullCollection: true);
            var y = layer.Forward(x);
            long graph = GC.GetTotalMemory(forceFullCollection: true) - before;
            y.Backward(dy);

            var yRef = refModel.Forward(x.AsSpan(), B, T);
            var dxRef = refModel.Backward(dy.AsSpan());
            const double Tol = 1e-9;
            // Spot checks: the first, middle and last steps of the output and input gradient, and every weight gradient.
            foreach (int t in new[] { 0, T / 2, T - 1 })
            {
                GoldenAssert.Close(y.Slice(1, t, 1).AsSpan(), Slice(yRef, B, T, O, t), [B, 1, O], $"output step {t}", Tol);
                GoldenAssert.Close(x.Grad!.Slice(1, t, 1).AsSpan(), Slice(dxRef, B, T, F, t), [B, 1, F], $"input gradient step {t}", Tol);
            }
            foreach (var (name, p) in layer.NamedParameters())
                GoldenAssert.Close(p.Grad!.AsSpan(), refModel.Grad("layers.0." + name), p.Shape.ToArray(), $"d/d {name}", Tol);
            Assert.That(graph, Is.GreaterThan(0));
            return $"T = {T}: graph held {graph / 1e6:F1} MB after forward = {graph / T} bytes per step";
        }
    }

    [Test]
    public void GraphMemory_GrowsLinearlyInTime()
    {
        static long GraphBytes(int time)
        {
            var layer = new LstmLayer<float>(32, 3, new() { Seed = 1 });
            var x = Tensor.Randn<float>(new Random(1), 2, time, 4);
            x.RequiresGrad = true;
            layer.Build(4);
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var y = layer.Forward(x);
            long bytes = GC.GetTotalMemory(forceFullCollection: true) - before;
            GC.KeepAlive(y);
            return bytes;
        }
        // Each on a fresh thread: buffers that earlier tests left in this thread's pool would otherwise be
        // reused by one measurement and not the other.
        static long OnFreshThread(Func<long> measure)
        {
            long result = 0;
            var thread = new Thread(() => result = measure());
            thread.Start();
            thread.Join();
            return result;
        }
        long small = OnFreshThread(() => GraphBytes(1000)), large = OnFreshThread(() => GraphBytes(4000));
        double ratio = (double)large / small;
        TestContext.Out.WriteLine($"graph bytes: T=1000 {small}, T=4000 {large}; per step {small / 1000.0:F0} / {large / 4000.0:F0}; ratio {ratio:F2}");
        Assert.That(ratio, Is.InRange(3.6, 4.4), "memory held by the graph is linear in T");
    }

    private static double[] Slice(double[] data, int b, int t, int f, int step)
    {
        var r = new double[b * f];
        for (int i = 0; i < b; i++) Array.Copy(data, (i * t + step) * f, r, i * f, f);
        return r;
    }
}
