namespace Autograd.Tests.Reference;

/// <summary>Central finite differences in double, and the closeness rule the reference gradient checks use.</summary>
internal static class FiniteDifference
{
    /// <summary>Step for central differences: truncation O(eps²) and round-off O(1e-16·|loss|/eps) are both ≈1e-10 here.</summary>
    public const double Eps = 1e-5;

    /// <summary>Relative tolerance for analytic vs numeric gradients.</summary>
    public const double RelativeTolerance = 1e-6;

    /// <summary>Absolute tolerance near zero (round-off of the differenced loss).</summary>
    public const double AbsoluteTolerance = 1e-8;

    /// <summary>
    /// Perturbs each element of <paramref name="values"/> in place (restoring it), evaluates
    /// <paramref name="loss"/>, and asserts the central difference matches <paramref name="analytic"/>.
    /// </summary>
    /// <returns>The worst relative error <c>|fd - an| / max(|an|, abs/rel)</c>.</returns>
    public static double Check(string what, double[] values, double[] analytic, Func<double> loss)
    {
        Assert.That(analytic, Has.Length.EqualTo(values.Length), $"{what}: analytic gradient length");
        double floor = AbsoluteTolerance / RelativeTolerance, worst = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            values[i] = v + Eps;
            double plus = loss();
            values[i] = v - Eps;
            double minus = loss();
            values[i] = v;
            double fd = (plus - minus) / (2 * Eps);
            double err = Math.Abs(fd - analytic[i]) / Math.Max(Math.Abs(analytic[i]), floor);
            if (double.IsNaN(err) || err > RelativeTolerance)
                Assert.Fail($"{what}[{i}]: analytic {analytic[i]:R}, finite difference {fd:R} (relative error {err:E3} > {RelativeTolerance:E1}, absolute floor {AbsoluteTolerance:E1}).");
            worst = Math.Max(worst, err);
        }
        return worst;
    }

    /// <summary>Normal samples of standard deviation <paramref name="scale"/>.</summary>
    public static double[] Randn(Random random, int n, double scale = 1.0)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++)
            a[i] = scale * Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return a;
    }

    /// <summary>Σ a·b.</summary>
    public static double Dot(double[] a, double[] b)
    {
        Assert.That(a, Has.Length.EqualTo(b.Length));
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
