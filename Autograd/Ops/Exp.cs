using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise eˣ. d/dx = eˣ (the output itself).</summary>
    public Tensor<T> Exp()
    {
        var r = Uninitialized(_shape);
        TP.Exp(Span, r.Span);
        return ShouldRecord(this) ? r.WithCreator(new ExpNode(this)) : r;
    }

    private sealed class ExpNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Exp";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var dx = Inputs[0].GradTarget;
            TP.MultiplyAdd(g, output.Span, dx, dx);
        }
    }
}
