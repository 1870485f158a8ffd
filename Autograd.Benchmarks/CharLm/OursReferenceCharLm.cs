using Autograd.Nn;
using Autograd.Nn.Reference;

namespace Autograd.Benchmarks.CharLm;

/// <summary>
/// Ours, hand-derived: <see cref="ReferenceLayer{T}"/> (the seed's per-step nodes with hand-written backward, on
/// plain arrays and deliberately naive loops; it exists as a gradient oracle, not for speed), whose W_v is the
/// dense projection, then a hand-written softmax cross-entropy (mean over B·T) and its gradient
/// (softmax − one-hot) / (B·T), and a plain SGD update (lr 0.01). Input: the dense one-hot (B, T, V) array.
/// Each step starts from zero state, like the other implementations.
/// </summary>
public sealed class OursReferenceCharLm : ICharLmStep
{
    private const float LearningRate = 0.01f;
    private readonly CharLmShape _shape;
    private readonly ReferenceLayer<float> _layer;
    private readonly float[] _oneHot;     // (B, T, V)
    private readonly float[] _dLogits;    // (B, T, V)

    public OursReferenceCharLm(CharLmShape shape, CellKind cell)
    {
        _shape = shape;
        var kind = cell switch
        {
            CellKind.Rnn => ReferenceCellKind.Rnn,
            CellKind.Gru => ReferenceCellKind.Gru,
            CellKind.Lstm => ReferenceCellKind.Lstm,
            _ => throw new ArgumentOutOfRangeException(nameof(cell), cell, "OursReferenceCharLm: unknown cell."),
        };
        _layer = new ReferenceLayer<float>(kind, shape.V, shape.H, shape.V);
        _layer.Parameters.Randomize(new Random(1), 1.0 / Math.Sqrt(shape.H));
        _oneHot = new float[shape.B * shape.T * shape.V];
        for (int i = 0; i < shape.Ids.Length; i++) _oneHot[i * shape.V + shape.Ids[i]] = 1f;
        _dLogits = new float[_oneHot.Length];
    }

    public float Step()
    {
        int v = _shape.V, positions = _shape.B * _shape.T;
        _layer.ResetState();
        _layer.Parameters.ZeroGrad();
        var logits = _layer.Forward(_oneHot, _shape.B, _shape.T);
        double loss = 0;
        for (int p = 0; p < positions; p++)
        {
            var row = logits.AsSpan(p * v, v);
            var grad = _dLogits.AsSpan(p * v, v);
            float max = float.NegativeInfinity;
            foreach (float z in row) max = MathF.Max(max, z);
            double sum = 0;
            for (int j = 0; j < v; j++) sum += grad[j] = MathF.Exp(row[j] - max);
            int target = _shape.Targets[p];
            loss += Math.Log(sum) - (row[target] - max);
            float scale = (float)(1.0 / (sum * positions));
            for (int j = 0; j < v; j++) grad[j] *= scale;
            grad[target] -= 1f / positions;
        }
        _layer.Backward(_dLogits);
        foreach (var name in _layer.Parameters.Names)
        {
            var value = _layer.Parameters.Value(name);
            var g = _layer.Parameters.Grad(name);
            for (int i = 0; i < value.Length; i++) value[i] -= LearningRate * g[i];
        }
        return (float)(loss / positions);
    }

    public void Dispose() { }
}
