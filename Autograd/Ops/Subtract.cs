using Autograd.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise <c>this - other</c> with NumPy broadcasting. d/da = 1, d/db = -1.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public Tensor<T> Subtract(Tensor<T> other)
    {
        var r = BroadcastForward<SubtractOperator<T>>(other, "Subtract");
        return ShouldRecord(this, other) ? r.WithCreator(new SubtractNode(this, other)) : r;
    }

    private sealed class SubtractNode(Tensor<T> a, Tensor<T> b) : Node<T>(a, b)
    {
        internal override string Name => "Subtract";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            Tensor<T> a = Inputs[0], b = Inputs[1];
            if (a.RequiresGrad) Broadcast.AccumulateTo(g, output._shape, a.GradTarget, a._shape);
            if (b.RequiresGrad)
            {
                using var neg = new Scratch<T>(g.Length);
                TP.Negate(g, neg.Span);
                Broadcast.AccumulateTo<T>(neg.Span, output._shape, b.GradTarget, b._shape);
            }
        }
    }
}
