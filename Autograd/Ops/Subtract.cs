using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise <c>this - other</c> with NumPy broadcasting. d/da = 1, d/db = -1.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public Tensor<T> Subtract(Tensor<T> other)
    {
        var r = BroadcastForward(ElementwiseOp.Subtract, other, "Subtract");
        return ShouldRecord(this, other) ? r.WithCreator(new SubtractNode(this, other)) : r;
    }

    private sealed class SubtractNode(Tensor<T> a, Tensor<T> b) : Node<T>(a, b)
    {
        internal override string Name => "Subtract";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            Tensor<T> a = Inputs[0], b = Inputs[1];
            if (a.RequiresGrad) AccumulateReduced(g, output._shape, a, negate: false);
            if (b.RequiresGrad) AccumulateReduced(g, output._shape, b, negate: true);
        }
    }
}
