using System.Buffers.Binary;
using System.Numerics;
using System.Text.Json;

namespace Autograd.Nn.Serialization;

/// <summary>
/// Builds a file in the Hugging Face safetensors format from tensors and string metadata, and
/// saves it atomically through <see cref="AtomicFile"/>.
/// </summary>
/// <remarks>
/// Tensors are stored in the order they were added; <see cref="Tensor{T}"/> of <see cref="float"/>
/// as F32, <see cref="double"/> as F64, <see cref="Half"/> as F16. The header is padded with
/// spaces to a multiple of 8 bytes so that the data is aligned, as the reference writer does.
/// </remarks>
public sealed class SafeTensorsWriter
{
    private readonly List<(string Name, SafeTensorsDType DType, int[] Shape, byte[] Data)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Adds a tensor (its values are copied now) in its own element type: float as F32, double as F64, Half as F16.</summary>
    /// <param name="name">The tensor's name in the file: unique, not empty, not <c>__metadata__</c>.</param>
    /// <param name="tensor">Any shape; stored row-major.</param>
    /// <returns>This writer, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="tensor"/> is null.</exception>
    /// <exception cref="ArgumentException">The name is empty, reserved (<c>__metadata__</c>) or already used.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not float, double or Half.</exception>
    public SafeTensorsWriter Add<T>(string name, Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dtype = typeof(T) == typeof(float) ? SafeTensorsDType.F32
            : typeof(T) == typeof(double) ? SafeTensorsDType.F64
            : typeof(T) == typeof(Half) ? SafeTensorsDType.F16
            : throw new NotSupportedException($"SafeTensorsWriter.Add: element type {typeof(T).Name} has no safetensors dtype here (float, double, Half).");
        return Add(name, tensor, dtype);
    }

    /// <summary>
    /// Adds a tensor (its values are copied now) stored as <paramref name="dtype"/>: F64, F32, F16 or BF16,
    /// each value rounded to the nearest representable one (ties to even), as PyTorch's <c>.to(dtype)</c> does.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, reserved (<c>__metadata__</c>) or already used.</exception>
    /// <exception cref="NotSupportedException"><paramref name="dtype"/> is not a floating-point dtype.</exception>
    public SafeTensorsWriter Add<T>(string name, Tensor<T> tensor, SafeTensorsDType dtype) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor);
        CheckName(name);
        var values = tensor.AsSpan();
        var data = new byte[values.Length * SafeTensorsDTypes.SizeOf(dtype)];
        switch (dtype)
        {
            case SafeTensorsDType.F64:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), double.CreateTruncating(values[i]));
                break;
            case SafeTensorsDType.F32:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), float.CreateTruncating(values[i]));
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), Half.CreateTruncating(values[i]));
                break;
            case SafeTensorsDType.BF16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), ToBFloat16(float.CreateTruncating(values[i])));
                break;
            default:
                throw new NotSupportedException($"SafeTensorsWriter.Add: '{name}': dtype {dtype} is not a floating-point dtype (F64, F32, F16, BF16).");
        }
        _tensors.Add((name, dtype, tensor.Shape.ToArray(), data));
        _names.Add(name);
        return this;
    }

    /// <summary>The upper half of an IEEE single, rounded to nearest even; NaN stays NaN.</summary>
    private static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40); // quiet NaN
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>Adds or replaces a <c>__metadata__</c> entry.</summary>
    /// <param name="key">The entry's key.</param>
    /// <param name="value">Its value (any string; the format allows only strings).</param>
    /// <returns>This writer, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="value"/> is null.</exception>
    public SafeTensorsWriter SetMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        _metadata[key] = value;
        return this;
    }

    /// <summary>Writes the whole file to <paramref name="stream"/>.</summary>
    /// <param name="stream">A writable stream; it is neither flushed nor closed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="IOException">The stream cannot be written.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var t in _tensors)
            stream.Write(t.Data);
    }

    /// <summary>
    /// Saves to <paramref name="path"/> atomically: a crash leaves either the old file or the new
    /// one, never a half-written file. Creates the folder if needed.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">Access is denied.</exception>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, WriteTo);
    }

    private byte[] BuildHeader()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in _metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in _tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToString());
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.Length;
            }
            json.WriteEndObject();
        }
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
            throw new ArgumentException("SafeTensorsWriter.Add: a tensor name must not be empty.", nameof(name));
        if (name == "__metadata__")
            throw new ArgumentException("SafeTensorsWriter.Add: '__metadata__' is reserved for the metadata map.", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"SafeTensorsWriter.Add: a tensor named '{name}' was already added.", nameof(name));
    }
}
