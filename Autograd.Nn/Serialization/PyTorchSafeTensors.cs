using System.Numerics;

namespace Autograd.Nn.Serialization;

/// <summary>
/// PyTorch weights in and out: safetensors files holding a PyTorch <c>state_dict</c> (what
/// <c>safetensors.torch.save_file(model.state_dict(), path)</c> writes and <c>load_file</c> reads), mapped onto
/// a module of ours by <see cref="Module{T}.LoadPyTorchStateDict"/> and <see cref="Module{T}.PyTorchStateDict"/>.
/// </summary>
public static class PyTorchSafeTensors
{
    /// <summary>
    /// Loads the file into <paramref name="module"/>, exactly: F64 and F32 tensors as they are, F16 and BF16
    /// converted (every value of theirs is exactly a float). Lazily built layers are built from the file's shapes.
    /// Nothing is changed unless every name, shape and dtype checks out.
    /// </summary>
    /// <exception cref="CheckpointFormatException">Not a valid safetensors file, a non-floating-point dtype, or names missing,
    /// unknown or of the wrong shape (the message names the file and them).</exception>
    /// <exception cref="InvalidOperationException">A layer of <paramref name="module"/> has no PyTorch equivalent (the message says why).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static void Load<T>(Module<T> module, string path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(path);
        var file = SafeTensorsFile.Load(path);
        foreach (var name in file.Names)
        {
            var dtype = file.GetInfo(name).DType;
            if (dtype is not (SafeTensorsDType.F64 or SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16))
                throw new CheckpointFormatException($"{path}: tensor '{name}' has dtype {dtype}; a PyTorch state_dict of weights is F64, F32, F16 or BF16.");
        }
        var state = file.Names.ToDictionary(n => n, file.GetTensor<T>, StringComparer.Ordinal);
        try
        {
            module.LoadPyTorchStateDict(state);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes <paramref name="module"/>'s parameters under PyTorch's names (<see cref="Module{T}.PyTorchStateDict"/>) as
    /// <c>safetensors.torch.save_file</c> does: tensors sorted by name, compact header padded to 8 bytes. Atomic.
    /// </summary>
    /// <param name="module">The module.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="dtype">F64, F32, F16 or BF16; null for <typeparamref name="T"/>'s own (F32 for float, F64 for double).</param>
    /// <param name="metadata">The header's <c>__metadata__</c> (PyTorch writes <c>{"format": "pt"}</c> for a whole model), or null for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="metadata"/> has a null value.</exception>
    /// <exception cref="InvalidOperationException">A layer is not built or has no PyTorch equivalent.</exception>
    /// <exception cref="NotSupportedException"><paramref name="dtype"/> is not floating-point.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save<T>(Module<T> module, string path, SafeTensorsDType? dtype = null, IReadOnlyDictionary<string, string>? metadata = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(path);
        if (metadata is not null)
            foreach (var (key, value) in metadata)
                if (value is null) throw new ArgumentException($"PyTorchSafeTensors.Save: metadata '{key}' has a null value.", nameof(metadata));
        var writer = new SafeTensorsWriter();
        foreach (var (name, tensor) in module.PyTorchStateDict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (dtype is { } d) writer.Add(name, tensor, d);
            else writer.Add(name, tensor);
        }
        if (metadata is not null)
            foreach (var (key, value) in metadata) writer.SetMetadata(key, value);
        writer.Save(path);
    }
}
