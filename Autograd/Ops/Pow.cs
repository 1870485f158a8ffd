using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise xᵖ for a constant exponent p. d/dx = p·xᵖ⁻¹ (0 for p = 0, also at x = 0, as PyTorch).</summary>
    public Tensor<T> Pow(T exponent)
    {
        double p = double.CreateTruncating(exponent);
        var r = MapForward(ElementwiseProgram.Compile(Expr.Pow(Expr.Input(0), p)));
        return ShouldRecord(this) ? r.WithCreator(new PowNode(this, p)) : r;
    }

    private sealed class PowNode(Tensor<T> x, double exponent) : Node<T>(x)
    {
        internal override string Name => "Pow";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBuffer; // touched even for p = 0: the gradient exists and is zero
            // d/dx x⁰ = 0 everywhere; the general rule would give 0 · 0⁻¹ = NaN at x = 0.
            if (exponent == 0) return;
            var derivative = ElementwiseProgram.Compile(Expr.Input(0) * (exponent * Expr.Pow(Expr.Input(1), exponent - 1)));
            K.Map(derivative, [g, x.Buffer], dx, accumulate: true);
        }
    }
}
