using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise <c>this * other</c> with NumPy broadcasting. d/da = b, d/db = a (summed over broadcast axes).</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public Tensor<T> Multiply(Tensor<T> other)
    {
        var r = BroadcastForward(ElementwiseOp.Multiply, other, "Multiply");
        return ShouldRecord(this, other) ? r.WithCreator(new MultiplyNode(this, other)) : r;
    }

    private sealed class MultiplyNode(Tensor<T> a, Tensor<T> b) : Node<T>(a, b)
    {
        internal override string Name => "Multiply";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            Tensor<T> a = Inputs[0], b = Inputs[1];
            if (a.RequiresGrad) AccumulateProduct(g, output._shape, b, a);
            if (b.RequiresGrad) AccumulateProduct(g, output._shape, a, b);
        }
    }
}
