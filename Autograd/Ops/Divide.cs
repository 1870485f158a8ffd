using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise <c>this / other</c> with NumPy broadcasting. d/da = 1/b, d/db = -a/b² = -out/b.</summary>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public Tensor<T> Divide(Tensor<T> other)
    {
        var r = BroadcastForward(ElementwiseOp.Divide, other, "Divide");
        return ShouldRecord(this, other) ? r.WithCreator(new DivideNode(this, other)) : r;
    }

    private sealed class DivideNode(Tensor<T> a, Tensor<T> b) : Node<T>(a, b)
    {
        private static readonly ElementwiseProgram Product = ElementwiseProgram.Compile(Expr.Input(0) * Expr.Input(1));

        internal override string Name => "Divide";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            Tensor<T> a = Inputs[0], b = Inputs[1];
            var k = K;
            using var tmp = new Scratch<T>(g.Length);
            var t = tmp.Buffer;
            if (a.RequiresGrad)
            {
                k.Broadcast(ElementwiseOp.Divide, g, output._shape, b.Buffer, b._shape, t, output._shape);
                k.ReduceTo(t, output._shape, a.GradBuffer, a._shape, T.One);
            }
            if (b.RequiresGrad)
            {
                k.Map(Product, [g, output.Buffer], t, accumulate: false);
                k.Broadcast(ElementwiseOp.Divide, t, output._shape, b.Buffer, b._shape, t, output._shape);
                k.ReduceTo(t, output._shape, b.GradBuffer, b._shape, -T.One);
            }
        }
    }
}
