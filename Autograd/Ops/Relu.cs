using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise max(x, 0). d/dx = 1 where x &gt; 0, else 0 (0 at 0, as PyTorch).</summary>
    public Tensor<T> Relu()
    {
        var r = Uninitialized(_shape);
        TP.Max(Span, T.Zero, r.Span);
        return ShouldRecord(this) ? r.WithCreator(new ReluNode(this)) : r;
    }

    private sealed class ReluNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Relu";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var x = Inputs[0].Span;
            var dx = Inputs[0].GradTarget;
            for (int i = 0; i < dx.Length; i++)
                if (x[i] > T.Zero) dx[i] += g[i];
        }
    }
}
