namespace Autograd.Tests.Golden;

/// <summary>
/// Element-wise closeness with the golden README's rule: <c>|actual - expected| ≤ max(abs, rel·|expected|)</c>
/// (1e-9 relative, or 1e-12 absolute near zero). A failure names the worst element by multi-index.
/// </summary>
public static class GoldenAssert
{
    /// <summary>The README's relative tolerance for double.</summary>
    public const double RelativeTolerance = 1e-9;

    /// <summary>The README's absolute tolerance near zero.</summary>
    public const double AbsoluteTolerance = 1e-12;

    /// <summary>Asserts <paramref name="actual"/> matches <paramref name="expected"/> and returns the worst relative error.</summary>
    /// <returns>max over elements of <c>|a - e| / max(|e|, abs/rel)</c>: the relative error, floored so near-zero entries count absolutely.</returns>
    public static double Close(ReadOnlySpan<double> actual, GoldenTensor expected, string what,
        double relativeTolerance = RelativeTolerance, double absoluteTolerance = AbsoluteTolerance)
        => Close(actual, expected.Data, expected.Shape, what, relativeTolerance, absoluteTolerance);

    /// <summary>Asserts <paramref name="actual"/> matches <paramref name="expected"/> (both of <paramref name="shape"/>) and returns the worst relative error.</summary>
    /// <returns>max over elements of <c>|a - e| / max(|e|, abs/rel)</c>.</returns>
    public static double Close(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected, int[] shape, string what,
        double relativeTolerance = RelativeTolerance, double absoluteTolerance = AbsoluteTolerance)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: element count (expected shape ({string.Join(", ", shape)}))");
        var (worst, index) = WorstError(actual, expected, relativeTolerance, absoluteTolerance);
        if (index >= 0 && !(worst <= relativeTolerance))
            Assert.Fail($"{what}: worst element {FormatIndex(index, shape)} of shape ({string.Join(", ", shape)}) is {actual[index]:R}, expected {expected[index]:R} " +
                        $"(|diff| = {Math.Abs(actual[index] - expected[index]):E3}, relative error {worst:E3} > {relativeTolerance:E1}, absolute floor {absoluteTolerance:E1}).");
        return worst;
    }

    /// <summary>The worst relative error <c>|a - e| / max(|e|, abs/rel)</c> and its flat index (-1 when empty); NaN counts as infinitely wrong.</summary>
    public static (double Worst, int Index) WorstError(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected,
        double relativeTolerance = RelativeTolerance, double absoluteTolerance = AbsoluteTolerance)
    {
        double floor = absoluteTolerance / relativeTolerance;
        double worst = 0;
        int index = expected.Length > 0 ? 0 : -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(actual[i] - expected[i]) / Math.Max(Math.Abs(expected[i]), floor);
            if (double.IsNaN(err)) err = double.PositiveInfinity;
            if (err > worst) { worst = err; index = i; }
        }
        return (worst, index);
    }

    /// <summary>A flat row-major index as <c>[i, j, k]</c>.</summary>
    public static string FormatIndex(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            int s = Math.Max(shape[d], 1);
            idx[d] = flat % s;
            flat /= s;
        }
        return "[" + string.Join(", ", idx) + "]";
    }
}
