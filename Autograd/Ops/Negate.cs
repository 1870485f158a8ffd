using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private static readonly ElementwiseProgram NegateForward = ElementwiseProgram.Compile(-Expr.Input(0));

    /// <summary>Elementwise <c>-this</c>. d/dx = -1.</summary>
    public Tensor<T> Negate()
    {
        var r = MapForward(NegateForward);
        return ShouldRecord(this) ? r.WithCreator(new NegateNode(this)) : r;
    }

    private sealed class NegateNode(Tensor<T> x) : Node<T>(x)
    {
        // Inputs: 0 = g, 1 = x, 2 = y (the output).
        private static readonly ElementwiseProgram Derivative = ElementwiseProgram.Compile(-Expr.Input(0));

        internal override string Name => "Negate";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBufferFor(out bool accumulate);
            K.Map(Derivative, [g, x.Buffer, output.Buffer], dx, accumulate);
        }
    }
}
