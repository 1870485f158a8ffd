using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise hyperbolic tangent. d/dx = 1 - tanh²(x), computed from the output.</summary>
    public Tensor<T> Tanh()
    {
        var r = Uninitialized(_shape);
        TP.Tanh(Span, r.Span);
        return ShouldRecord(this) ? r.WithCreator(new TanhNode(this)) : r;
    }

    private sealed class TanhNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Tanh";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            using var tmp = new Scratch<T>(g.Length);
            var t = tmp.Span;
            var y = output.Span;
            // g * (1 - y²) = g - g*y*y
            TP.Multiply(y, y, t);
            TP.Multiply(t, g, t);
            TP.Subtract(g, t, t);
            var dx = Inputs[0].GradTarget;
            TP.Add(dx, t, dx);
        }
    }
}
