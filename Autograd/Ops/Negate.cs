using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise <c>-this</c>. d/dx = -1.</summary>
    public Tensor<T> Negate()
    {
        var r = Uninitialized(_shape);
        TP.Negate(Span, r.Span);
        return ShouldRecord(this) ? r.WithCreator(new NegateNode(this)) : r;
    }

    private sealed class NegateNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Negate";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var dx = Inputs[0].GradTarget;
            TP.Subtract(dx, g, dx);
        }
    }
}
