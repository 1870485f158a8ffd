using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise <c>this + other</c> with NumPy broadcasting. d/da = 1, d/db = 1 (summed over broadcast axes).</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public Tensor<T> Add(Tensor<T> other)
    {
        var r = BroadcastForward(ElementwiseOp.Add, other, "Add");
        return ShouldRecord(this, other) ? r.WithCreator(new AddNode(this, other)) : r;
    }

    private sealed class AddNode(Tensor<T> a, Tensor<T> b) : Node<T>(a, b)
    {
        internal override string Name => "Add";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            foreach (var x in Inputs)
                if (x.RequiresGrad) AccumulateReduced(g, output._shape, x, negate: false);
        }
    }
}
