using Autograd.Nn;

namespace Autograd.Tests.Nn;

/// <summary>Optimizers against updates computed by hand; losses and clipping against direct formulas.</summary>
public class OptimizerAndLossTests
{
    internal static Tensor<double> Param(params double[] v)
    {
        var p = Tensor.FromArray(v, v.Length);
        p.RequiresGrad = true;
        return p;
    }

    /// <summary>Sets p.Grad to g by back-propagating sum(p * g).</summary>
    internal static void SetGrad(Tensor<double> p, params double[] g)
    {
        p.ZeroGrad();
        (p * Tensor.FromArray(g, g.Length)).Sum().Backward();
    }

    [Test]
    public void Sgd_TwoSteps()
    {
        var p = Param(1.0, -2.0);
        var opt = new Sgd<double>([p], 0.1);
        SetGrad(p, 0.5, -1.0);
        opt.Step(); // 1 - 0.05 = 0.95 ; -2 + 0.1 = -1.9
        SetGrad(p, 2.0, 0.0);
        opt.Step(); // 0.95 - 0.2 = 0.75 ; -1.9
        Assert.That(p.ToArray(), Is.EqualTo(new[] { 0.75, -1.9 }).Within(1e-15));
    }

    [Test]
    public void SgdMomentum_TwoSteps()
    {
        var p = Param(1.0);
        var opt = new Sgd<double>([p], 0.1, new SgdOptions(Momentum: 0.9));
        SetGrad(p, 1.0);
        opt.Step(); // v = 1 ; p = 0.9
        SetGrad(p, 2.0);
        opt.Step(); // v = 0.9 + 2 = 2.9 ; p = 0.9 - 0.29 = 0.61
        Assert.That(p.Item(), Is.EqualTo(0.61).Within(1e-15));
    }

    [Test]
    public void SgdNesterov_TwoSteps()
    {
        var p = Param(1.0);
        var opt = new Sgd<double>([p], 0.1, new SgdOptions(Momentum: 0.9, Nesterov: true));
        SetGrad(p, 1.0);
        opt.Step(); // v = 1 ; step = g + μv = 1.9 ; p = 0.81
        SetGrad(p, 2.0);
        opt.Step(); // v = 0.9 + 2 = 2.9 ; step = 2 + 0.9·2.9 = 4.61 ; p = 0.81 - 0.461 = 0.349
        Assert.That(p.Item(), Is.EqualTo(0.349).Within(1e-15));
        Assert.That(() => new Sgd<double>([p], 0.1, new SgdOptions(Nesterov: true)), Throws.ArgumentException.With.Message.Contains("Nesterov"));
    }

    [Test]
    public void SgdWeightDecay_TwoSteps_WithAndWithoutMomentum()
    {
        var p = Param(1.0);
        var opt = new Sgd<double>([p], 0.1, new SgdOptions(WeightDecay: 0.1));
        SetGrad(p, 0.5);
        opt.Step(); // g = 0.5 + 0.1·1 = 0.6 ; p = 0.94
        SetGrad(p, -1.0);
        opt.Step(); // g = -1 + 0.094 = -0.906 ; p = 0.94 + 0.0906 = 1.0306
        Assert.That(p.Item(), Is.EqualTo(1.0306).Within(1e-15));

        var q = Param(2.0);
        var withMomentum = new Sgd<double>([q], 0.5, new SgdOptions(Momentum: 0.5, WeightDecay: 0.25));
        SetGrad(q, 1.0);
        withMomentum.Step(); // g = 1 + 0.5 = 1.5 ; v = 1.5 ; q = 2 - 0.75 = 1.25
        SetGrad(q, 0.0);
        withMomentum.Step(); // g = 0.3125 ; v = 0.75 + 0.3125 = 1.0625 ; q = 1.25 - 0.53125 = 0.71875
        Assert.That(q.Item(), Is.EqualTo(0.71875).Within(1e-15));
    }

    [Test]
    public void Adam_TwoSteps()
    {
        var p = Param(1.0);
        var opt = new Adam<double>([p], 0.01);
        SetGrad(p, 0.5);
        opt.Step();
        SetGrad(p, -1.0);
        opt.Step();
        // Hand computation with b1 = 0.9, b2 = 0.999, eps = 1e-8.
        double m = 0, v = 0, x = 1.0;
        double[] grads = [0.5, -1.0];
        for (int t = 1; t <= 2; t++)
        {
            double g = grads[t - 1];
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            double mh = m / (1 - Math.Pow(0.9, t)), vh = v / (1 - Math.Pow(0.999, t));
            x -= 0.01 * mh / (Math.Sqrt(vh) + 1e-8);
        }
        Assert.That(p.Item(), Is.EqualTo(x).Within(1e-15));
    }

    [Test]
    public void AdamWeightDecay_TwoSteps()
    {
        var p = Param(1.0);
        var opt = new Adam<double>([p], 0.01, new AdamOptions(WeightDecay: 0.5));
        double[] grads = [0.5, -1.0];
        double m = 0, v = 0, x = 1.0;
        for (int t = 1; t <= 2; t++)
        {
            SetGrad(p, grads[t - 1]);
            opt.Step();
            double g = grads[t - 1] + 0.5 * x; // L2 penalty added to the gradient, as PyTorch's Adam (not AdamW)
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            x -= 0.01 * (m / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v / (1 - Math.Pow(0.999, t))) + 1e-8);
        }
        Assert.That(p.Item(), Is.EqualTo(x).Within(1e-15));
        var q = Param(1.0);
        var plain = new Adam<double>([q], 0.01);
        foreach (var g in grads) { SetGrad(q, g); plain.Step(); }
        Assert.That(Math.Abs(p.Item() - q.Item()), Is.GreaterThan(1e-4), "the decay changes the result");
    }

    [Test]
    public void Optimizer_StateDict_ResumesExactly()
    {
        var p1 = Param(1.0, 2.0);
        var p2 = Param(1.0, 2.0);
        var a = new Adam<double>([p1], 0.05);
        var b = new Adam<double>([p2], 0.05);
        double[][] grads = [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2]];
        SetGrad(p1, grads[0]); a.Step();
        SetGrad(p2, grads[0]); b.Step();
        var restored = new Adam<double>([p2], 0.05);
        restored.LoadStateDict(b.StateDict());
        for (int i = 1; i < 3; i++)
        {
            SetGrad(p1, grads[i]); a.Step();
            SetGrad(p2, grads[i]); restored.Step();
        }
        Assert.That(p2.ToArray(), Is.EqualTo(p1.ToArray()));
        Assert.That(() => restored.LoadStateDict(new Dictionary<string, Tensor<double>> { ["q.0"] = Tensor.Zeros<double>(2) }),
            Throws.ArgumentException.With.Message.Contains("q.0"));
    }

    [Test]
    public void ParametersWithoutGradient_AreSkipped()
    {
        var p = Param(3.0);
        new Sgd<double>([p], 0.1, new SgdOptions(Momentum: 0.9)).Step();
        new Adam<double>([p], 0.1).Step();
        Assert.That(p.Item(), Is.EqualTo(3.0));
    }

    [Test]
    public void CrossEntropy_MatchesDirectFormula()
    {
        var logits = Tensor.FromArray(new[] { 1.0, 2.0, 0.5, -1.0, 0.0, 3.0 }, 1, 2, 3);
        var loss = Losses.CrossEntropy(logits, [1, 2]);
        double l0 = -Math.Log(Math.Exp(2) / (Math.Exp(1) + Math.Exp(2) + Math.Exp(0.5)));
        double l1 = -Math.Log(Math.Exp(3) / (Math.Exp(-1) + Math.Exp(0) + Math.Exp(3)));
        Assert.That(loss.Item(), Is.EqualTo((l0 + l1) / 2).Within(1e-15));
    }

    [Test]
    public void CrossEntropyLastStep_GivesZeroGradientToEarlierSteps()
    {
        var logits = Tensor.Randn<double>(new Random(4), 2, 5, 3);
        logits.RequiresGrad = true;
        Losses.CrossEntropyLastStep(logits, [2, 0]).Backward();
        var g = logits.Grad!;
        Assert.That(g.Slice(1, 0, 4).ToArray(), Is.All.EqualTo(0.0));
        // Last step: (softmax - onehot) / batch.
        var last = logits.Slice(1, 4, 1).Reshape(2, 3).ToArray();
        var gl = g.Slice(1, 4, 1).ToArray();
        int[] targets = [2, 0];
        for (int b = 0; b < 2; b++)
        {
            double z = Enumerable.Range(0, 3).Sum(c => Math.Exp(last[b * 3 + c]));
            for (int c = 0; c < 3; c++)
                Assert.That(gl[b * 3 + c], Is.EqualTo((Math.Exp(last[b * 3 + c]) / z - (c == targets[b] ? 1 : 0)) / 2).Within(1e-15));
        }
    }

    [Test]
    public void MeanSquaredError_MatchesDirectFormula_AndRejectsShapeMismatch()
    {
        var p = Tensor.FromArray(new[] { 1.0, 2.0, 4.0 }, 3);
        var t = Tensor.FromArray(new[] { 0.0, 2.5, 1.0 }, 3);
        Assert.That(Losses.MeanSquaredError(p, t).Item(), Is.EqualTo((1 + 0.25 + 9) / 3.0).Within(1e-15));
        Assert.That(() => Losses.MeanSquaredError(p, Tensor.Zeros<double>(3, 1)), Throws.ArgumentException.With.Message.Contains("(3, 1)"));
    }

    [Test]
    public void ClipNorm_ScalesToMaxAndReturnsNormBefore()
    {
        var a = Param(0, 0);
        var b = Param(0);
        SetGrad(a, 3, 0);
        SetGrad(b, 4);
        double norm = GradClip.ClipNorm([a, b], 1.0);
        Assert.That(norm, Is.EqualTo(5.0).Within(1e-15));
        Assert.That(a.Grad!.ToArray()[0], Is.EqualTo(3 / (5 + 1e-6)).Within(1e-15));
        Assert.That(b.Grad!.Item(), Is.EqualTo(4 / (5 + 1e-6)).Within(1e-15));
        // Below the limit: untouched.
        Assert.That(GradClip.ClipNorm([a, b], 10.0), Is.EqualTo(1.0).Within(1e-6));
        Assert.That(b.Grad!.Item(), Is.EqualTo(4 / (5 + 1e-6)).Within(1e-15));
    }

    [Test]
    public void ClipNorm_NonFiniteNormIsReportedNotApplied()
    {
        var a = Param(0, 0);
        SetGrad(a, double.NaN, 1.0);
        Assert.That(() => GradClip.ClipNorm([a], 1.0), Throws.InstanceOf<NonFiniteGradientException>().With.Message.Contains("NaN"));
        Assert.That(a.Grad!.ToArray()[1], Is.EqualTo(1.0));
    }

    [Test]
    public void ClipValue_Clamps()
    {
        var a = Param(0, 0, 0);
        SetGrad(a, -5, 1, 3);
        GradClip.ClipValue([a], 2.0);
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { -2.0, 1.0, 2.0 }));
    }
}
