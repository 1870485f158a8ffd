using TP = System.Numerics.Tensors.TensorPrimitives;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise natural logarithm (NaN below 0, -∞ at 0, as IEEE). d/dx = 1/x.</summary>
    public Tensor<T> Log()
    {
        var r = Uninitialized(_shape);
        TP.Log(Span, r.Span);
        return ShouldRecord(this) ? r.WithCreator(new LogNode(this)) : r;
    }

    private sealed class LogNode(Tensor<T> x) : Node<T>(x)
    {
        internal override string Name => "Log";

        internal override void Backward(Tensor<T> output, ReadOnlySpan<T> g)
        {
            var x = Inputs[0];
            using var tmp = new Scratch<T>(g.Length);
            TP.Divide(g, x.Span, tmp.Span);
            var dx = x.GradTarget;
            TP.Add(dx, tmp.Span, dx);
        }
    }
}
