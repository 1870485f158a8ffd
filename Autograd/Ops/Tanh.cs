using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private static readonly ElementwiseProgram TanhForward = ElementwiseProgram.Compile(Expr.Tanh(Expr.Input(0)));

    /// <summary>Elementwise hyperbolic tangent. d/dx = 1 - tanh²(x), computed from the output.</summary>
    public Tensor<T> Tanh()
    {
        var r = MapForward(TanhForward);
        return ShouldRecord(this) ? r.WithCreator(new TanhNode(this)) : r;
    }

    private sealed class TanhNode(Tensor<T> x) : Node<T>(x)
    {
        // Inputs: 0 = g, 1 = x, 2 = y (the output).
        private static readonly ElementwiseProgram Derivative = ElementwiseProgram.Compile(Expr.Input(0) - Expr.Input(0) * Expr.Input(2) * Expr.Input(2));

        internal override string Name => "Tanh";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBufferFor(out bool accumulate);
            K.Map(Derivative, [g, x.Buffer, output.Buffer], dx, accumulate);
        }
    }
}
