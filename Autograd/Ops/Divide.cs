using Autograd.Kernels;
using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise <c>this / other</c> with NumPy broadcasting. d/da = 1/b, d/db = -a/b² = -out/b.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public Tensor<T> Divide(Tensor<T> other)
    {
        var r = BroadcastForward<DivideOperator<T>>(other, "Divide");
        return ShouldRecord(this, other) ? r.WithCreator(new DivideNode(this, other)) : r;
    }

    private sealed class DivideNode(Tensor<T> a, Tensor<T> b) : Node<T>(a, b)
    {
        internal override string Name => "Divide";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            Tensor<T> a = Inputs[0], b = Inputs[1];
            using var tmp = new Scratch<T>(g.Length);
            var t = tmp.Span;
            if (a.RequiresGrad)
            {
                Broadcast.Apply<T, DivideOperator<T>>(g, output._shape, b.Span, b._shape, t, output._shape);
                Broadcast.AccumulateTo<T>(t, output._shape, a.GradTarget, a._shape);
            }
            if (b.RequiresGrad)
            {
                TP.Multiply(g, output.Span, t);
                Broadcast.Apply<T, DivideOperator<T>>(t, output._shape, b.Span, b._shape, t, output._shape);
                TP.Negate(t, t);
                Broadcast.AccumulateTo<T>(t, output._shape, b.GradTarget, b._shape);
            }
        }
    }
}
