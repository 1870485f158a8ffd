using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise xᵖ for a constant exponent p. d/dx = p·xᵖ⁻¹ (0 for p = 0, also at x = 0, as PyTorch).</summary>
    public Tensor<T> Pow(T exponent)
    {
        var r = Uninitialized(_shape);
        TP.Pow(Span, exponent, r.Span);
        return ShouldRecord(this) ? r.WithCreator(new PowNode(this, exponent)) : r;
    }

    private sealed class PowNode(Tensor<T> x, T exponent) : Node<T>(x)
    {
        internal override string Name => "Pow";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            // d/dx x⁰ = 0 everywhere; the general rule would give 0 · 0⁻¹ = NaN at x = 0.
            if (exponent == T.Zero) { _ = Inputs[0].GradTarget; return; } // touch: the gradient exists and is zero
            var x = Inputs[0];
            using var tmp = new Scratch<T>(g.Length);
            var t = tmp.Span;
            TP.Pow(x.Span, exponent - T.One, t);
            TP.Multiply(t, exponent, t);
            var dx = x.GradTarget;
            TP.MultiplyAdd(g, t, dx, dx);
        }
    }
}
