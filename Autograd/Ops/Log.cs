using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    private static readonly ElementwiseProgram LogForward = ElementwiseProgram.Compile(Expr.Log(Expr.Input(0)));

    /// <summary>Elementwise natural logarithm (NaN below 0, -∞ at 0, as IEEE). d/dx = 1/x.</summary>
    public Tensor<T> Log()
    {
        var r = MapForward(LogForward);
        return ShouldRecord(this) ? r.WithCreator(new LogNode(this)) : r;
    }

    private sealed class LogNode(Tensor<T> x) : Node<T>(x)
    {
        // Inputs: 0 = g, 1 = x, 2 = y (the output).
        private static readonly ElementwiseProgram Derivative = ElementwiseProgram.Compile(Expr.Input(0) / Expr.Input(1));

        internal override string Name => "Log";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var x = Inputs[0];
            var dx = x.GradBufferFor(out bool accumulate);
            K.Map(Derivative, [g, x.Buffer, output.Buffer], dx, accumulate);
        }
    }
}
