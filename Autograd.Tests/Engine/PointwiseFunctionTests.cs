using Autograd.Backends;

namespace Autograd.Tests.Engine;

/// <summary>What <see cref="PointwiseFunction"/> derives and refuses (its values are checked in the op table).</summary>
public class PointwiseFunctionTests
{
    [Test]
    public void Gradient_IsNullExactlyWhereTheDerivativeIsZero()
    {
        var f = PointwiseFunction.Compile(Expr.Step(Expr.Input(0)) * Expr.Input(1) + 2, 3);
        Assert.Multiple(() =>
        {
            Assert.That(f.Gradient(0), Is.Null, "d step(x)/dx = 0");
            Assert.That(f.Gradient(1), Is.Not.Null);
            Assert.That(f.Gradient(2), Is.Null, "input 2 is unused");
            Assert.That(f.Gradient(1)!.InputCount, Is.EqualTo(4), "reads the inputs and the gradient (input 3)");
        });
    }

    [Test]
    public void Gradient_OfALinearInput_IsTheIncomingGradientScaled()
    {
        // d(3a)/da folds to g * 3: no leftover 1· or 0+ steps.
        var f = PointwiseFunction.Compile(a => a * 3);
        Assert.That(f.Gradient(0)!.Text, Is.EqualTo("in1 * 3"));
    }

    [Test]
    public void Compile_RefusesAnInputBeyondTheArity()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseFunction.Compile(Expr.Input(2) * 2, 2));
        Assert.That(e!.Message, Does.Contain("in2 * 2").And.Contain("input 2"));
        Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseFunction.Compile(Expr.Input(0), 0));
        Assert.Throws<ArgumentNullException>(() => PointwiseFunction.Compile((Func<Expr, Expr>)null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => PointwiseFunction.Compile(a => a).Gradient(1));
    }

    [Test]
    public void Pointwise_RefusesMoreThanSevenInputs()
    {
        var f = PointwiseFunction.Compile(Expr.Input(7), 8);
        var xs = Enumerable.Range(0, 8).Select(_ => Tensor.Ones<double>(2)).ToArray();
        var e = Assert.Throws<ArgumentException>(() => Tensor.Pointwise(f, xs));
        Assert.That(e!.Message, Does.Contain("at most 7"));
    }

    [Test]
    public void Pointwise_OnlyInputsThatRequireGrad_ReceiveOne()
    {
        var f = PointwiseFunction.Compile((a, b) => a * b);
        var a = Tensor.FromArray([1.0, 2.0], 2);
        var b = Tensor.FromArray([3.0, 4.0], 2);
        a.RequiresGrad = true;
        Tensor.Pointwise(f, a, b).Sum().Backward();
        Assert.That(a.Grad!.ToArray(), Is.EqualTo(new[] { 3.0, 4.0 }));
        Assert.That(b.Grad, Is.Null);
    }
}
