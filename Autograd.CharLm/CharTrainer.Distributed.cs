using Autograd.Distributed;
using Autograd.Nn;

namespace Autograd.CharLm;

// Data-parallel training: what CharTrainer does differently when it has a communicator. Every
// method here is called on every rank at the same point of the run, so the collectives line up.
public sealed partial class CharTrainer
{
    private readonly ICommunicator? _communicator;
    private readonly int _firstRow;
    private readonly int _rows;
    private ulong _textFingerprint;
    private DataParallel<float>? _dataParallel;

    /// <summary>Whether this process evaluates and writes checkpoints: rank 0, or the only process.</summary>
    private bool IsRoot => _communicator is null || _communicator.Rank == 0;

    /// <summary>This rank's share of the global batch: contiguous rows, sizes differing by at most one.</summary>
    private void Shard(ICommunicator communicator, int[] trainIds, ref int firstRow, ref int rows)
    {
        int batch = _options.BatchSize, size = communicator.Size, rank = communicator.Rank;
        if (batch < size)
            throw new ArgumentException($"CharTrainer: the global batch size {batch} is smaller than the number of ranks {size}; every rank needs at least one row.", nameof(communicator));
        rows = batch / size + (rank < batch % size ? 1 : 0);
        firstRow = rank * (batch / size) + Math.Min(rank, batch % size);
        var f = new Fingerprint();
        f.Add<int>(trainIds);
        f.Add<int>(_validation);
        _textFingerprint = f.Value;
    }

    /// <summary>Checks that every rank was set up alike, then gives every replica rank 0's weights.</summary>
    private void StartDataParallel()
    {
        if (_communicator is null || _dataParallel is not null) return;
        VerifySameSetup(_communicator);
        _dataParallel = new DataParallel<float>(_communicator, _model.Network, new DataParallelOptions { VerifyEvery = ReplicaCheckInterval });
        _dataParallel.BroadcastParameters(root: 0);
    }

    private void VerifySameSetup(ICommunicator communicator)
    {
        var model = new Fingerprint();
        model.Add(_model.Config.ToString());
        model.Add(_model.Vocabulary.Symbols);
        var options = new Fingerprint();
        options.Add(_options.ToString());
        options.Add<int>([ReplicaCheckInterval]);
        var resume = new Fingerprint();
        if (_resume is { } r)
        {
            resume.Add<long>([r.Step, r.BatchPosition]);
            resume.Add<double>([r.BestValidationLoss, r.ElapsedSeconds]);
            foreach (var state in new[] { r.OptimizerState, r.CarriedState })
                foreach (var (key, tensor) in state.OrderBy(e => e.Key, StringComparer.Ordinal))
                {
                    resume.Add(key);
                    resume.Add(tensor.AsSpan());
                }
        }
        string[] names = ["model", "training options", "text", "checkpoint resumed from"];
        var same = communicator.AllSame([model.Value, options.Value, _textFingerprint, resume.Value]);
        var differing = names.Where((_, i) => !same[i]).ToArray();
        if (differing.Length > 0)
            throw new RankMismatchException($"the {communicator.Size} ranks were not started alike: they differ in {string.Join(", ", differing)}; start every rank with the same arguments and files.");
    }

    /// <summary>Whether to stop, and the time into the run: rank 0's clock decides for all, and any rank's cancellation stops all.</summary>
    private (bool Stop, TimeSpan Elapsed) Agree(bool cancelled, TimeSpan elapsed)
    {
        if (_communicator is null) return (cancelled, elapsed);
        Span<double> values = [IsRoot ? elapsed.TotalSeconds : 0, cancelled ? 1 : 0];
        _communicator.AllReduce(values, ReduceOperation.Sum);
        return (values[1] > 0, TimeSpan.FromSeconds(values[0]));
    }

    /// <summary>Makes every rank's gradients those of the global batch; returns the global batch's loss.</summary>
    private double AverageGradients(double localLoss)
    {
        if (_communicator is null) return localLoss;
        // Each rank's loss is a mean over its rows: weighting by its share of the rows gives the global mean.
        double weight = _rows / (double)_options.BatchSize;
        _dataParallel!.SynchronizeGradients(weight);
        return _communicator.AllReduceSum(localLoss * weight);
    }

    /// <summary>This rank's rows of a (global batch, H) state from a checkpoint.</summary>
    private Tensor<float> OwnRows(Tensor<float> state)
    {
        if (_rows == _options.BatchSize) return state;
        int h = state.Size(1);
        return Tensor.FromArray(state.AsSpan().Slice(_firstRow * h, _rows * h).ToArray(), _rows, h);
    }

    /// <summary>
    /// The carried state of the whole global batch, for a checkpoint: each rank fills its rows of a
    /// zero buffer and one sum-reduction assembles them (adding zeros is exact).
    /// </summary>
    private Dictionary<string, Tensor<float>> GatherCarriedState()
    {
        var local = CarriedState();
        if (_communicator is null) return local;
        int batch = _options.BatchSize, size = _communicator.Size;
        var slots = new List<(string Key, int Hidden)>();
        foreach (var (layer, i) in _model.Network.Layers.Select((l, i) => (l, i)))
            if (layer is RecurrentLayer<float> recurrent)
                foreach (var name in recurrent.Cell.StateNames) slots.Add(($"layers.{i}.{name}", recurrent.HiddenSize));
        var buffer = new float[slots.Sum(s => batch * s.Hidden) + slots.Count];
        int offset = 0, flags = buffer.Length - slots.Count;
        for (int k = 0; k < slots.Count; k++)
        {
            var (key, hidden) = slots[k];
            if (local.TryGetValue(key, out var state))
            {
                state.AsSpan().CopyTo(buffer.AsSpan(offset + _firstRow * hidden, _rows * hidden));
                buffer[flags + k] = 1;
            }
            offset += batch * hidden;
        }
        _communicator.AllReduce(buffer, ReduceOperation.Sum);
        var global = new Dictionary<string, Tensor<float>>(StringComparer.Ordinal);
        offset = 0;
        for (int k = 0; k < slots.Count; k++)
        {
            var (key, hidden) = slots[k];
            float present = buffer[flags + k];
            if (present == size) global[key] = Tensor.FromArray(buffer.AsSpan(offset, batch * hidden).ToArray(), batch, hidden);
            else if (present != 0) throw new InvalidOperationException($"CharTrainer: {present} of {size} ranks carry a state for {key}; the ranks are out of step.");
            offset += batch * hidden;
        }
        return global;
    }
}
