namespace Autograd.Tests.Engine;

/// <summary>
/// Saturated activations and huge logits. Gradients here are checked against closed forms
/// (σ' = e^-|x| / (1 + e^-|x|)², softmax - onehot), not finite differences, which are
/// ill-conditioned at these magnitudes.
/// </summary>
public class ExtremeValueTests
{
    private static Tensor<TF> Leaf<TF>(double[] data, params int[] shape) where TF : unmanaged, System.Numerics.IFloatingPointIeee754<TF>
    {
        var t = Tensor.FromArray(data.Select(TF.CreateChecked).ToArray(), shape);
        t.RequiresGrad = true;
        return t;
    }

    // Measurable (|x| ≤ 11 for tanh, every negative x and x ≤ 20 for sigmoid) and deeply saturated points.
    private static readonly double[] TanhPoints = [-40, -20, -11, -8, 8, 11, 20, 40];
    private static readonly double[] SigmoidPoints = [-40, -20.5, -16, 16, 20.5, 40];

    /// <summary>
    /// Derivatives computed from the output (1 − y², y(1 − y)) inherit y's rounding: an error of up to
    /// ~2·ulp(1) = 4.4e-16 on top of a relative 1e-6. That floor is far below the slope at the
    /// measurable points (4.5e-7 at tanh(±8), 1.1e-7 at σ(±16)), so a zero or wrong backward fails there;
    /// at ±20 and ±40 the true slope (≤ 1.7e-17) is below what double can resolve and only the floor applies.
    /// </summary>
    internal static void AssertSlopes(string what, double[] xs, double[] gradients, Func<double, double> slope)
    {
        const double RoundingFloor = 4.4e-16;
        for (int i = 0; i < xs.Length; i++)
        {
            double expected = slope(xs[i]);
            Assert.That(gradients[i], Is.EqualTo(expected).Within(1e-6 * expected + RoundingFloor), $"{what}'({xs[i]})");
            Assert.That(gradients[i], Is.GreaterThanOrEqualTo(0), $"{what}'({xs[i]}) is never negative");
        }
    }

    private static double SigmoidSlope(double v)
    {
        double e = Math.Exp(-Math.Abs(v));
        return e / ((1 + e) * (1 + e));
    }

    private static double TanhSlope(double v)
    {
        double e = Math.Exp(-2 * Math.Abs(v));
        return 4 * e / ((1 + e) * (1 + e)); // 1 - tanh² = sech²
    }

    [Test]
    public void Sigmoid_Saturated_Double_ValueAndGradientMatchClosedForm()
    {
        var x = Leaf<double>(SigmoidPoints, SigmoidPoints.Length);
        var y = x.Sigmoid();
        y.Sum().Backward();
        for (int i = 0; i < SigmoidPoints.Length; i++)
        {
            double v = SigmoidPoints[i], e = Math.Exp(-Math.Abs(v));
            double value = v >= 0 ? 1 / (1 + e) : e / (1 + e);
            Assert.That(y.ToArray()[i], Is.EqualTo(value).Within(1e-15 + 1e-14 * value), $"σ({v})");
        }
        AssertSlopes("σ", SigmoidPoints, x.Grad!.ToArray(), SigmoidSlope);
    }

    [Test]
    public void Tanh_Saturated_Double_ValueAndGradientMatchClosedForm()
    {
        var x = Leaf<double>(TanhPoints, TanhPoints.Length);
        var y = x.Tanh();
        y.Sum().Backward();
        for (int i = 0; i < TanhPoints.Length; i++)
        {
            double v = TanhPoints[i], e = Math.Exp(-2 * Math.Abs(v));
            Assert.That(y.ToArray()[i], Is.EqualTo(Math.Sign(v) * (1 - e) / (1 + e)).Within(1e-15), $"tanh({v})");
        }
        AssertSlopes("tanh", TanhPoints, x.Grad!.ToArray(), TanhSlope);
    }

    [Test]
    public void SaturatedSlopeCheck_RejectsAZeroOrSlightlyWrongBackward()
    {
        foreach (var (xs, slope) in new (double[], Func<double, double>)[] { (TanhPoints, TanhSlope), (SigmoidPoints, SigmoidSlope) })
        {
            Assert.Throws<AssertionException>(() => AssertSlopes("zero", xs, new double[xs.Length], slope));
            Assert.Throws<AssertionException>(() => AssertSlopes("1.001x", xs, xs.Select(v => 1.001 * slope(v)).ToArray(), slope));
            Assert.DoesNotThrow(() => AssertSlopes("exact", xs, xs.Select(slope).ToArray(), slope));
        }
    }

    [Test]
    public void SigmoidAndTanh_Saturated_Float_AreFiniteAndBounded()
    {
        double[] values = [-1000, -100, -20, 20, 100, 1000];
        var x = Leaf<float>(values, values.Length);
        var s = x.Sigmoid();
        var t = x.Tanh();
        (s + t).Sum().Backward();
        for (int i = 0; i < values.Length; i++)
        {
            float sv = s.ToArray()[i], tv = t.ToArray()[i], g = x.Grad!.ToArray()[i];
            Assert.That(float.IsFinite(sv) && sv >= 0 && sv <= 1, $"σ({values[i]}) = {sv}");
            Assert.That(tv, Is.EqualTo(MathF.Sign((float)values[i])).Within(1e-6f), $"tanh({values[i]})");
            Assert.That(float.IsFinite(g) && g >= 0 && g < 1e-8f, $"gradient at {values[i]} = {g}");
        }
    }

    private static readonly double[] HugeLogits = [1000, -1000, 999, 0, -999.5, 1000, 998];

    private static double[] NaiveSoftmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(v => Math.Exp(v - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    [Test]
    public void LogSoftmax_HugeLogits_FiniteAndGradientIsSoftmaxMinusOneHot()
    {
        // Two rows of 7 along the last axis; the loss -logp[target] has gradient softmax - onehot.
        double[] data = [.. HugeLogits, .. HugeLogits.Select(v => -v)];
        int[] targets = [1, 2];
        var x = Leaf<double>(data, 2, 7);
        var logp = x.LogSoftmax(-1);
        var onehot = new double[14];
        onehot[targets[0]] = 1; onehot[7 + targets[1]] = 1;
        (logp * Tensor.FromArray(onehot.Select(v => -v).ToArray(), 2, 7)).Sum().Backward();

        var lp = logp.ToArray();
        Assert.That(lp.All(double.IsFinite), "log-softmax values must be finite");
        for (int r = 0; r < 2; r++)
        {
            var row = data.Skip(r * 7).Take(7).ToArray();
            var p = NaiveSoftmax(row);
            double max = row.Max(), lse = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            for (int j = 0; j < 7; j++)
            {
                int k = r * 7 + j;
                Assert.That(lp[k], Is.EqualTo(row[j] - lse).Within(1e-12 * (1 + Math.Abs(row[j] - lse))), $"logp[{r},{j}]");
                Assert.That(x.Grad!.ToArray()[k], Is.EqualTo(p[j] - onehot[k]).Within(1e-12), $"grad[{r},{j}]");
            }
        }
    }

    [Test]
    public void Softmax_HugeLogits_FiniteSumsToOne_AndGradientMatchesJacobian()
    {
        // Softmax along axis 0 of a (7, 2) tensor (a strided axis), loss = Σ w ⊙ softmax;
        // dL/dz_j = p_j (w_j - Σ_i w_i p_i).
        double[] data = new double[14];
        for (int i = 0; i < 7; i++) { data[i * 2] = HugeLogits[i]; data[i * 2 + 1] = -HugeLogits[i]; }
        double[] w = [0.3, -1, 2, 0.5, 1, -0.25, 4, 1.5, -2, 0, 1, 1, -3, 0.75];
        var x = Leaf<double>(data, 7, 2);
        var p = x.Softmax(0);
        (p * Tensor.FromArray(w, 7, 2)).Sum().Backward();

        var pv = p.ToArray();
        Assert.That(pv.All(double.IsFinite));
        for (int c = 0; c < 2; c++)
        {
            var col = Enumerable.Range(0, 7).Select(i => data[i * 2 + c]).ToArray();
            var wc = Enumerable.Range(0, 7).Select(i => w[i * 2 + c]).ToArray();
            var expected = NaiveSoftmax(col);
            double dot = expected.Zip(wc, (a, b) => a * b).Sum();
            Assert.That(Enumerable.Range(0, 7).Sum(i => pv[i * 2 + c]), Is.EqualTo(1.0).Within(1e-12));
            for (int i = 0; i < 7; i++)
            {
                Assert.That(pv[i * 2 + c], Is.EqualTo(expected[i]).Within(1e-12), $"p[{i},{c}]");
                Assert.That(x.Grad!.ToArray()[i * 2 + c], Is.EqualTo(expected[i] * (wc[i] - dot)).Within(1e-12), $"grad[{i},{c}]");
            }
        }
    }

    [Test]
    public void CrossEntropy_HugeLogits_Double_FiniteAndGradientIsSoftmaxMinusOneHotOverN()
        => CrossEntropyHuge<double>(1e-12);

    [Test]
    public void CrossEntropy_HugeLogits_Float_FiniteAndGradientIsSoftmaxMinusOneHotOverN()
        => CrossEntropyHuge<float>(1e-6);

    private static void CrossEntropyHuge<TF>(double tol) where TF : unmanaged, System.Numerics.IFloatingPointIeee754<TF>
    {
        double[] data = [.. HugeLogits, .. HugeLogits.Select(v => -v), .. HugeLogits.Reverse()];
        int[] targets = [1, 3, 0]; // a target at -1000 (loss ~2000), one in the middle, one at the top
        var x = Leaf<TF>(data, 3, 7);
        var loss = x.CrossEntropy(targets);
        loss.Backward();

        double expectedLoss = 0;
        var grad = x.Grad!.ToArray();
        for (int r = 0; r < 3; r++)
        {
            var row = data.Skip(r * 7).Take(7).ToArray();
            var p = NaiveSoftmax(row);
            double max = row.Max();
            expectedLoss += max + Math.Log(row.Sum(v => Math.Exp(v - max))) - row[targets[r]];
            for (int j = 0; j < 7; j++)
            {
                double expected = (p[j] - (j == targets[r] ? 1 : 0)) / 3;
                Assert.That(double.CreateChecked(grad[r * 7 + j]), Is.EqualTo(expected).Within(tol), $"grad[{r},{j}]");
            }
        }
        expectedLoss /= 3;
        double actual = double.CreateChecked(loss.Item());
        Assert.That(double.IsFinite(actual));
        Assert.That(actual, Is.EqualTo(expectedLoss).Within(tol * 10 * Math.Abs(expectedLoss)));
    }

    [Test]
    public void Exp_Overflow_IsInfinityNotAnException_AndLogOfZeroIsMinusInfinity()
    {
        // IEEE semantics, as documented on Log; the engine must not throw or produce garbage.
        var y = Tensor.FromArray(new[] { 1000.0, 0.0 }, 2).Exp();
        Assert.That(y.ToArray(), Is.EqualTo(new[] { double.PositiveInfinity, 1.0 }));
        var l = Tensor.FromArray(new[] { 0.0, 1.0 }, 2).Log();
        Assert.That(l.ToArray(), Is.EqualTo(new[] { double.NegativeInfinity, 0.0 }));
    }
}
