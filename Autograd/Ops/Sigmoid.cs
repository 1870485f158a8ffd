using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise logistic function 1/(1+e⁻ˣ); saturates to 0 or 1 without overflow. d/dx = σ(x)(1-σ(x)).</summary>
    public Tensor<T> Sigmoid()
    {
        var r = Uninitialized(_shape);
        TP.Sigmoid(Span, r.Span);
        return ShouldRecord(this) ? r.WithCreator(new SigmoidNode(this)) : r;
    }

    private sealed class SigmoidNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Sigmoid";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            using var tmp = new Scratch<T>(g.Length);
            var t = tmp.Span;
            var y = output.Span;
            // g * y * (1 - y) = g*y - g*y*y
            TP.Multiply(g, y, t);
            var dx = Inputs[0].GradTarget;
            TP.Add(dx, t, dx);
            TP.Multiply(t, y, t);
            TP.Subtract(dx, t, dx);
        }
    }
}
