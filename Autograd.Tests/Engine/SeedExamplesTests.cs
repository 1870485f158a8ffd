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
    // Figure 6-1 with 3×3 matrices: b1 = a1@w1; b2 = a2@w2; c1 = b1 + b2; L = sum(c1 * b2).
    // b2 feeds both the add and the multiply, so dL/db2 = b2 (through c1) + c1 (direct) = b1 + 2·b2.
    private static Tensor<double> Figure61(Tensor<double>[] x)
    {
        var b1 = x[0].MatMul(x[1]);
        var b2 = x[2].MatMul(x[3]);
        var c1 = b1 + b2;
        return (c1 * b2).Sum();
    }

    private static Tensor<double>[] Figure61Inputs()
    {
        var rng = new Random(61);
        return [.. Enumerable.Range(0, 4).Select(_ => Tensor.Randn<double>(rng, 3, 3))];
    }

    private static double[,] M(Tensor<double> t)
    {
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) r[i, j] = t[i, j];
        return r;
    }

    private static double[,] Mul(double[,] a, double[,] b, bool transA = false, bool transB = false)
    {
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++)
                    r[i, j] += (transA ? a[k, i] : a[i, k]) * (transB ? b[j, k] : b[k, j]);
        return r;
    }

    [Test]
    public void Figure61_MatrixGraph_PassesGradCheck()
    {
        GradCheck.Assert(Figure61, Figure61Inputs());
    }

    [Test]
    public void Figure61_MatrixGraph_MatchesClosedForm()
    {
        var x = Figure61Inputs();
        foreach (var t in x) t.RequiresGrad = true;
        var loss = Figure61(x);
        loss.Backward();

        double[,] a1 = M(x[0]), w1 = M(x[1]), a2 = M(x[2]), w2 = M(x[3]);
        double[,] b1 = Mul(a1, w1), b2 = Mul(a2, w2);
        var gB1 = new double[3, 3];   // dL/db1 = b2
        var gB2 = new double[3, 3];   // dL/db2 = c1 + b2 = b1 + 2·b2
        double expectedLoss = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                gB1[i, j] = b2[i, j];
                gB2[i, j] = b1[i, j] + 2 * b2[i, j];
                expectedLoss += (b1[i, j] + b2[i, j]) * b2[i, j];
            }
        Assert.That(loss.Item(), Is.EqualTo(expectedLoss).Within(1e-12));

        var expected = new[]
        {
            Mul(gB1, w1, transB: true),   // dL/da1 = b2 · w1ᵀ
            Mul(a1, gB1, transA: true),   // dL/dw1 = a1ᵀ · b2
            Mul(gB2, w2, transB: true),   // dL/da2 = (b1 + 2 b2) · w2ᵀ
            Mul(a2, gB2, transA: true),   // dL/dw2 = a2ᵀ · (b1 + 2 b2): both uses of b2
        };
        for (int n = 0; n < 4; n++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    Assert.That(x[n].Grad![i, j], Is.EqualTo(expected[n][i, j]).Within(1e-12), $"input {n} [{i}, {j}]");

        // Counting only one use of b2 (as an Operation chain would) gives a different w2 gradient.
        var oneUse = Mul(a2, b1, transA: true);
        Assert.That(Math.Abs(x[3].Grad![0, 0] - oneUse[0, 0]), Is.GreaterThan(1e-3));
    }
}
