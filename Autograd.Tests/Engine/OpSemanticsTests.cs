namespace Autograd.Tests.Engine;

/// <summary>
/// Documented behaviour at points finite differences cannot decide (ties, kinks, zero): hand-derived
/// expectations that follow PyTorch.
/// </summary>
public class OpSemanticsTests
{
    private static Tensor<double> Leaf(double[] data, params int[] shape)
    {
        var t = Tensor.FromArray(data, shape);
        t.RequiresGrad = true;
        return t;
    }

    [Test]
    public void Max_Ties_GradientGoesToFirstMaximum()
    {
        // Rows along axis 1: [3, 1, 3] (tie at 0 and 2), [2, 2, 2], [0, 5, 5].
        var x = Leaf([3, 1, 3, 2, 2, 2, 0, 5, 5], 3, 3);
        var m = x.Max(1);
        Assert.That(m.ToArray(), Is.EqualTo(new[] { 3.0, 2, 5 }));
        m.Backward(Tensor.FromArray(new[] { 10.0, 20, 30 }, 3));
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 10.0, 0, 0, 20, 0, 0, 0, 30, 0 }));
    }

    [Test]
    public void Max_Ties_AlongStridedAxis_GradientGoesToFirstMaximum()
    {
        // Columns along axis 0 of (3, 2): [4, 4, 1] and [0, 7, 7].
        var x = Leaf([4, 0, 4, 7, 1, 7], 3, 2);
        var m = x.Max(0, keepDim: true);
        Assert.That(m.Shape.ToArray(), Is.EqualTo(new[] { 1, 2 }));
        m.Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 1.0, 0, 0, 1, 0, 0 }));
    }

    [Test]
    public void Relu_AtZero_HasZeroGradient()
    {
        var x = Leaf([-1, 0, 2], 3);
        var y = x.Relu();
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 0.0, 0, 2 }));
        y.Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 0.0, 0, 1 }));
    }

    [Test]
    public void Pow_ZeroExponent_HasZeroGradientEvenAtZero()
    {
        // d/dx x⁰ = 0 everywhere (PyTorch special-cases it); 0 · x⁻¹ at x = 0 would be NaN.
        var x = Leaf([0, 2, -3], 3);
        var y = x.Pow(0.0);
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 1.0, 1, 1 }));
        y.Sum().Backward();
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 0.0, 0, 0 }));
    }

    [Test]
    public void Pow_IntegerExponents_AtZeroAndNegativeBases()
    {
        var x = Leaf([0, -2, 3], 3);
        var y = x.Pow(2.0) + x.Pow(1.0) + x.Pow(3.0);
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 0.0, 4 - 2 - 8, 9 + 3 + 27 }));
        y.Sum().Backward();
        // 2x + 1 + 3x²
        Assert.That(x.Grad!.ToArray(), Is.EqualTo(new[] { 1.0, -4 + 1 + 12, 6 + 1 + 27 }));
    }

    [Test]
    public void IndexSelect_RepeatedIds_SumTheirGradients()
    {
        var table = Leaf([1, 2, 3, 4, 5, 6], 3, 2);
        var picked = table.IndexSelect([2, 0, 2, 2]);
        Assert.That(picked.ToArray(), Is.EqualTo(new[] { 5.0, 6, 1, 2, 5, 6, 5, 6 }));
        picked.Backward(Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6, 7, 8 }, 4, 2));
        Assert.That(table.Grad!.ToArray(), Is.EqualTo(new[] { 3.0, 4, 0, 0, 1 + 5 + 7, 2 + 6 + 8 }));
    }

    [Test]
    public void Broadcast_GradientIsSummedOverBroadcastAxes()
    {
        // (2, 1) + (1, 3): each input's gradient sums the weights over the axis it was stretched on.
        var a = Leaf([1, 2], 2, 1);
        var b = Leaf([10, 20, 30], 1, 3);
        var y = a + b;
        Assert.That(y.ToArray(), Is.EqualTo(new[] { 11.0, 21, 31, 12, 22, 32 }));
        y.Backward(Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6 }, 2, 3));
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 6.0, 15 }));
        Assert.That(b.Grad!.ToArray(), Is.EqualTo(new[] { 5.0, 7, 9 }));
    }

    [Test]
    public void Scalar_Shapes_AreRankZero()
    {
        var x = Leaf([1, 2, 3, 4], 2, 2);
        Assert.That(x.Sum().Shape.ToArray(), Is.Empty);
        Assert.That(x.Mean().Rank, Is.EqualTo(0));
        Assert.That(x.CrossEntropy([0, 1]).Rank, Is.EqualTo(0));
        Assert.That((Tensor.Scalar(2.0) * Tensor.Scalar(3.0)).Shape.ToArray(), Is.Empty);
        Assert.That(x.Sum(0).Sum(0).Shape.ToArray(), Is.Empty);
    }
}
