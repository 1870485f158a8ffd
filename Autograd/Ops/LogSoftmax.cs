using Autograd.Backends;

namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>
    /// log(softmax(x)) along <paramref name="axis"/>, computed stably as x - max - log Σ exp(x - max):
    /// finite for logits of ±1000. d/dx = g - softmax(x) · Σ g (sums along the axis).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is out of range.</exception>
    public Tensor<T> LogSoftmax(int axis)
    {
        int ax = ShapeUtil.NormalizeAxis(axis, _shape, "LogSoftmax");
        var r = Uninitialized(_shape);
        var (outer, size, inner) = ShapeUtil.Split(_shape, ax);
        K.LogSoftmax(Buffer, outer, size, inner, r.Buffer);
        return ShouldRecord(this) ? r.WithCreator(new LogSoftmaxNode(this, ax)) : r;
    }

    private sealed class LogSoftmaxNode(Tensor<T> x, int axis) : Node<T>(x)
    {
        internal override string Name => "LogSoftmax";

        internal override void Backward(Tensor<T> output, Buffer<T> g)
        {
            var (outer, size, inner) = ShapeUtil.Split(output._shape, axis);
            K.LogSoftmaxBackward(g, output.Buffer, outer, size, inner, Inputs[0].GradBuffer);
        }
    }
}
