using Autograd.Nn;

namespace Autograd.Tests.Nn;

/// <summary>Dropout's rate, 1/(1−p) scaling, evaluation behaviour and generator state; the Linear layer.</summary>
public class DropoutAndLinearTests
{
    /// <summary>
    /// An RNN layer that passes its input through: H = tanh(ε·x), output H/ε ≈ x
    /// (ε = 1e-5: relative error ε²x²/3 ≤ 1e-8 for |x| ≤ 20) so a stack of two shows exactly what dropout did between them.
    /// </summary>
    private static RnnLayer<double> NearIdentity(int n, double eps = 1e-5)
    {
        var layer = new RnnLayer<double>(n, n, new() { Carry = CarryMode.None });
        layer.Build(n);
        var wf = new double[2 * n * n];
        var wv = new double[n * n];
        for (int i = 0; i < n; i++) { wf[i * n + i] = eps; wv[i * n + i] = 1 / eps; }
        layer.LoadStateDict(new Dictionary<string, Tensor<double>>
        {
            ["W_f"] = Tensor.FromArray(wf, 2 * n, n), ["B_f"] = Tensor.Zeros<double>(1, n),
            ["W_v"] = Tensor.FromArray(wv, n, n), ["B_v"] = Tensor.Zeros<double>(1, n),
        });
        return layer;
    }

    private static RnnModel<double> PassThrough(double p, int n, int seed) => new([NearIdentity(n), NearIdentity(n)], p, seed);

    [TestCase(0.1)]
    [TestCase(0.5)]
    [TestCase(0.8)]
    public void Dropout_ZeroesAFractionPAndScalesTheRestByOneOverOneMinusP(double p)
    {
        const int B = 8, T = 50, N = 50; // 20,000 values
        var model = PassThrough(p, N, seed: 11);
        var x = Tensor.Randn<double>(new Random(3), B, T, N);
        var xs = x.ToArray();
        var y = model.Forward(x).ToArray();
        int dropped = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] == 0) { dropped++; continue; }
            Assert.That(y[i] / xs[i], Is.EqualTo(1 / (1 - p)).Within(1e-6), $"kept value {i} is scaled by 1/(1-p)");
        }
        // Binomial(20,000, p): 5 standard deviations.
        double n = y.Length, sd = Math.Sqrt(n * p * (1 - p));
        Assert.That(dropped, Is.InRange(n * p - 5 * sd, n * p + 5 * sd), $"dropped {dropped} of {n}");
        // Inverted dropout keeps the expectation: the mean of y/x over all positions is ≈ 1.
        double meanRatio = Enumerable.Range(0, y.Length).Average(i => y[i] / xs[i]);
        Assert.That(meanRatio, Is.EqualTo(1).Within(5 * Math.Sqrt(p / (1 - p) / n)));
    }

    [Test]
    public void Dropout_EvalMode_IsTheModelWithoutDropout_AndTrainingAgainDrops()
    {
        var rng = new Random(2);
        var x = Tensor.Randn<double>(rng, 3, 6, 4);
        RnnModel<double> Build(double p) => new(
            [new GruLayer<double>(5, 4, new() { Carry = CarryMode.None, Seed = 1 }), new LstmLayer<double>(6, 3, new() { Carry = CarryMode.None, Seed = 2 })], p, seed: 5);
        var withDropout = Build(0.5);
        var without = Build(0);
        withDropout.Eval();
        Assert.That(withDropout.Forward(x).ToArray(), Is.EqualTo(without.Forward(x).ToArray()), "eval: bitwise the dropout-free model");
        Assert.That(withDropout.DropoutMasksDrawn, Is.EqualTo(0), "eval draws no masks");
        withDropout.Train();
        Assert.That(withDropout.Forward(x).ToArray(), Is.Not.EqualTo(without.Forward(x).ToArray()));
        Assert.That(withDropout.DropoutMasksDrawn, Is.EqualTo(1), "one mask between two layers");
    }

    [Test]
    public void Dropout_MasksAreDeterminedBySeedAndCount_SoTheStateCanBeRestored()
    {
        var x = Tensor.Randn<double>(new Random(4), 2, 5, 6);
        var a = PassThrough(0.5, 6, seed: 7);
        var first = a.Forward(x).ToArray();
        var second = a.Forward(x).ToArray();
        Assert.That(second, Is.Not.EqualTo(first), "a fresh mask each pass");
        Assert.That(a.DropoutMasksDrawn, Is.EqualTo(2));

        var b = PassThrough(0.5, 6, seed: 7);
        b.DropoutMasksDrawn = 1;
        Assert.That(b.Forward(x).ToArray(), Is.EqualTo(second), "restored count: the same next mask");
        Assert.That(PassThrough(0.5, 6, seed: 8).Forward(x).ToArray(), Is.Not.EqualTo(first), "another seed, other masks");
        Assert.That(() => b.DropoutMasksDrawn = -1, Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Linear_ComputesXWPlusB_OverTheLastAxis_AndIsLazilyBuilt()
    {
        var linear = new Linear<double>(5, seed: 3);
        Assert.That(linear.NamedParameters(), Is.Empty, "not built before the first input");
        var x = Tensor.Randn<double>(new Random(1), 2, 3, 4);
        var y = linear.Forward(x);
        Assert.That(y.Shape.ToArray(), Is.EqualTo(new[] { 2, 3, 5 }));
        Assert.That(linear.NamedParameters().Select(p => (p.Name, Shape: p.Parameter.Shape.ToArray())),
            Is.EqualTo(new[] { ("W", new[] { 4, 5 }), ("B", new[] { 1, 5 }) }));
        var sd = linear.StateDict();
        sd["B"].CopyFrom([0.5, -1, 2, 0, 0.25]);
        y = linear.Forward(x);
        double[] w = sd["W"].ToArray(), bias = sd["B"].ToArray(), xv = x.ToArray(), yv = y.ToArray();
        double limit = Math.Sqrt(6.0 / (4 + 5));
        Assert.That(w, Is.All.InRange(-limit, limit), "Xavier-uniform weights");
        for (int r = 0; r < 6; r++)
            for (int j = 0; j < 5; j++)
            {
                double expected = bias[j];
                for (int k = 0; k < 4; k++) expected += xv[r * 4 + k] * w[k * 5 + j];
                Assert.That(yv[r * 5 + j], Is.EqualTo(expected).Within(1e-12), $"row {r}, output {j}");
            }
        Assert.That(() => linear.Forward(Tensor.Zeros<double>(2, 3)), Throws.ArgumentException.With.Message.Contains("4 input features").And.Message.Contains("(2, 3)"));
        Assert.That(() => linear.Forward(Tensor.Scalar(1.0)), Throws.ArgumentException.With.Message.Contains("rank"));
        Assert.That(() => new Linear<double>(0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Linear_MatchesFiniteDifferences()
    {
        var linear = new Linear<double>(3, seed: 2);
        var x = Tensor.Randn<double>(new Random(5), 2, 4, 3);
        linear.Forward(x);
        var inputs = new[] { x }.Concat(linear.Parameters()).ToArray();
        foreach (var t in inputs) t.RequiresGrad = true;
        GradCheck.Assert(_ => linear.Forward(x).Tanh(), inputs);
    }
}
