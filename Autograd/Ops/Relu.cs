using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private static readonly ElementwiseProgram ReluForward = ElementwiseProgram.Compile(Expr.Max(Expr.Input(0), 0));

    /// <summary>Elementwise max(x, 0). d/dx = 1 where x &gt; 0, else 0 (0 at 0, as PyTorch).</summary>
    public Tensor<T> Relu()
    {
        var r = MapForward(ReluForward);
        return ShouldRecord(this) ? r.WithCreator(new ReluNode(this)) : r;
    }

    private sealed class ReluNode(Tensor<T> x) : Node<T>(x)
    {
        // Inputs: 0 = g, 1 = x, 2 = y (the output).
        private static readonly ElementwiseProgram Derivative = ElementwiseProgram.Compile(Expr.Input(0) * Expr.Step(Expr.Input(1)));

        internal override string Name => "Relu";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBufferFor(out bool accumulate);
            K.Map(Derivative, [g, x.Buffer, output.Buffer], dx, accumulate);
        }
    }
}
