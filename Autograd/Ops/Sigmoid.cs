using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private static readonly ElementwiseProgram SigmoidForward = ElementwiseProgram.Compile(Expr.Sigmoid(Expr.Input(0)));

    /// <summary>Elementwise logistic function 1/(1+e⁻ˣ); saturates to 0 or 1 without overflow. d/dx = σ(x)(1-σ(x)), computed from the output.</summary>
    public Tensor<T> Sigmoid()
    {
        var r = MapForward(SigmoidForward);
        return ShouldRecord(this) ? r.WithCreator(new SigmoidNode(this)) : r;
    }

    private sealed class SigmoidNode(Tensor<T> x) : Node<T>(x)
    {
        // Inputs: 0 = g, 1 = x, 2 = y (the output).
        private static readonly ElementwiseProgram Derivative = ElementwiseProgram.Compile(Expr.Input(0) * Expr.Input(2) * (1 - Expr.Input(2)));

        internal override string Name => "Sigmoid";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBufferFor(out bool accumulate);
            K.Map(Derivative, [g, x.Buffer, output.Buffer], dx, accumulate);
        }
    }
}
