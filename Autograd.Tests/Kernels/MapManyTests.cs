using Autograd.Backends;

namespace Autograd.Tests.Kernels;

/// <summary>
/// IKernels.MapMany on every backend: several results of one program, each written or added to its own
/// destination, results that are an input or a constant, and one destination listed twice (the later adds).
/// Expected values are computed here in double.
/// </summary>
[TestFixture("cpu")]
[TestFixture("reference")]
public class MapManyTests(string backend) : BackendFixture(backend)
{
    // 40,000: above the CPU backend's parallel threshold (run with two threads below); 1,500: several chunks.
    [TestCase(1)]
    [TestCase(7)]
    [TestCase(1500)]
    [TestCase(40_000)]
    public void EveryResult_ReachesItsDestination(int n)
    {
        var x = Expr.Input(0);
        var y = Expr.Input(1);
        var s = Expr.Sigmoid(x);
        var program = ElementwiseProgram.CompileMany([s * y, y, (Expr)2.5, s * (1 - s), Expr.Tanh(x) - y]);
        Assert.That(program.Outputs, Has.Count.EqualTo(5));

        var rng = new Random(n);
        double[] xs = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 6 - 3)];
        double[] ys = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 2 - 1)];
        double[] start = [.. Enumerable.Range(0, n).Select(_ => rng.NextDouble())];
        var k = Backend.Current.For<double>();
        Buffer<double> Make(double[] values)
        {
            var b = new Buffer<double>(k.Allocate(n), 0, n);
            k.Upload(values, b);
            return b;
        }
        var d0 = Make(start);  // written
        var d1 = Make(start);  // added: start + y
        var d2 = Make(start);  // written: 2.5
        var d3 = Make(start);  // written by result 3, then result 4 added into the same destination

        int saved = Tensor.NumThreads;
        Tensor.NumThreads = 2;
        try
        {
            k.MapMany(program, [Make(xs), Make(ys)], [d0, d1, d2, d3, d3], [false, true, false, false, true]);
        }
        finally
        {
            Tensor.NumThreads = saved;
        }

        double[] Read(Buffer<double> b)
        {
            var r = new double[n];
            k.Download(b, r);
            return r;
        }
        double[] r0 = Read(d0), r1 = Read(d1), r2 = Read(d2), r3 = Read(d3);
        for (int i = 0; i < n; i++)
        {
            double sig = 1 / (1 + Math.Exp(-xs[i]));
            Assert.That(r0[i], Is.EqualTo(sig * ys[i]).Within(1e-14), $"result 0, element {i}");
            Assert.That(r1[i], Is.EqualTo(start[i] + ys[i]).Within(1e-15), $"result 1, element {i}");
            Assert.That(r2[i], Is.EqualTo(2.5), $"result 2, element {i}");
            Assert.That(r3[i], Is.EqualTo(sig * (1 - sig) + Math.Tanh(xs[i]) - ys[i]).Within(1e-14), $"results 3 + 4, element {i}");
        }
    }

    [TestCase(7)]
    [TestCase(1500)]
    public void ADestinationThatIsAnInput_IsWrittenAfterEveryResultReadIt(int n)
    {
        // Result 0 overwrites the input that result 1 still reads: result 1 must see the old values.
        var x = Expr.Input(0);
        var program = ElementwiseProgram.CompileMany([x * 2, x + 1]);
        var k = Backend.Current.For<double>();
        double[] values = [.. Enumerable.Range(0, n).Select(i => i * 0.5)];
        var a = new Buffer<double>(k.Allocate(n), 0, n);
        var b = new Buffer<double>(k.Allocate(n), 0, n);
        k.Upload(values, a);
        k.MapMany(program, [a], [a, b], [false, false]);
        var ra = new double[n];
        var rb = new double[n];
        k.Download(a, ra);
        k.Download(b, rb);
        Assert.That(ra, Is.EqualTo(values.Select(v => v * 2)));
        Assert.That(rb, Is.EqualTo(values.Select(v => v + 1)));
    }

    [Test]
    public void MismatchedDestinations_AreRefused()
    {
        var program = ElementwiseProgram.CompileMany([Expr.Input(0), Expr.Input(0) * 2]);
        var k = Backend.Current.For<double>();
        var b = new Buffer<double>(k.Allocate(3), 0, 3);
        var e = Assert.Throws<ArgumentException>(() => k.MapMany(program, [b], [b], [false]));
        Assert.That(e!.Message, Does.Contain("2 outputs"));
    }
}
