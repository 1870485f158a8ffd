using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private static readonly ElementwiseProgram ExpForward = ElementwiseProgram.Compile(Expr.Exp(Expr.Input(0)));

    /// <summary>Elementwise eˣ. d/dx = eˣ (the output itself).</summary>
    public Tensor<T> Exp()
    {
        var r = MapForward(ExpForward);
        return ShouldRecord(this) ? r.WithCreator(new ExpNode(this)) : r;
    }

    private sealed class ExpNode(Tensor<T> x) : Node<T>(x)
    {
        // Inputs: 0 = g, 1 = x, 2 = y (the output).
        private static readonly ElementwiseProgram Derivative = ElementwiseProgram.Compile(Expr.Input(0) * Expr.Input(2));

        internal override string Name => "Exp";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBufferFor(out bool accumulate);
            K.Map(Derivative, [g, x.Buffer, output.Buffer], dx, accumulate);
        }
    }
}
