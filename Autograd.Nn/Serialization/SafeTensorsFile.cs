using System.Buffers.Binary;
using System.Numerics;
using System.Text.Json;

namespace Autograd.Nn.Serialization;

/// <summary>Where one tensor lives in a safetensors file: element type, shape and byte span.</summary>
/// <param name="Name">The tensor's key in the header.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The size of each axis (empty for a scalar).</param>
/// <param name="Begin">Start of the tensor's bytes, relative to the data buffer after the header.</param>
/// <param name="End">End (exclusive) of the tensor's bytes, relative to the data buffer.</param>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End)
{
    /// <summary>The number of elements (product of the shape).</summary>
    public int ElementCount => Shape.Aggregate(1, (a, b) => a * b);
}

/// <summary>
/// A parsed and fully validated file in the Hugging Face safetensors format: an 8-byte
/// little-endian header length N, N bytes of UTF-8 JSON (each tensor's <c>dtype</c>,
/// <c>shape</c> and <c>data_offsets</c>, plus an optional <c>__metadata__</c> map of strings),
/// then the raw little-endian tensor data.
/// </summary>
/// <remarks>
/// Parsing checks everything before anything is used: the header length lies within the file
/// (and under <see cref="MaxHeaderBytes"/>), the header is a JSON object without duplicate keys,
/// every dtype is known, every shape is a list of non-negative integers, every byte span equals
/// shape × dtype size, the spans lie in the buffer, do not overlap and cover it exactly.
/// Nothing is allocated from an unchecked length, and nothing in the file is executed.
/// </remarks>
public sealed class SafeTensorsFile
{
    /// <summary>The largest header accepted (the reference implementation's limit, 100 MB).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The largest file <see cref="Load"/> reads (it is read whole into memory).</summary>
    public const long MaxFileBytes = int.MaxValue - 64;

    private const int MaxRank = 16;
    private const string MetadataKey = "__metadata__";

    private readonly byte[] _bytes;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;

    private SafeTensorsFile(byte[] bytes, long dataStart, Dictionary<string, SafeTensorInfo> tensors,
        IReadOnlyDictionary<string, string> metadata, IReadOnlyList<string> names, string source)
    {
        _bytes = bytes;
        _dataStart = dataStart;
        _tensors = tensors;
        Metadata = metadata;
        Names = names;
        Source = source;
    }

    /// <summary>The <c>__metadata__</c> map (empty when the header has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor names, in the order of their data in the file.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The file name or description used in error messages.</summary>
    public string Source { get; }

    /// <summary>Whether the file holds a tensor called <paramref name="name"/>.</summary>
    /// <param name="name">A tensor name (ordinal comparison).</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensors.ContainsKey(name);
    }

    /// <summary>The dtype, shape and byte span of a tensor.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="CheckpointFormatException">No tensor has that name.</exception>
    public SafeTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensors.TryGetValue(name, out var info)
            ? info
            : throw new CheckpointFormatException($"{Source}: tensor '{name}' is missing.");
    }

    /// <summary>The raw little-endian bytes of a tensor.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <exception cref="CheckpointFormatException">No tensor has that name.</exception>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var info = GetInfo(name);
        return _bytes.AsSpan(checked((int)(_dataStart + info.Begin)), checked((int)(info.End - info.Begin)));
    }

    /// <summary>
    /// A new tensor with the named tensor's shape and values, converted to <typeparamref name="T"/>
    /// from any floating-point dtype (F16, BF16, F32, F64).
    /// </summary>
    /// <typeparam name="T">The element type of the result (float, double or Half).</typeparam>
    /// <param name="name">The tensor's name.</param>
    /// <exception cref="CheckpointFormatException">The tensor is missing or not floating-point.</exception>
    public Tensor<T> GetTensor<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var info = GetInfo(name);
        var bytes = GetBytes(name);
        var values = new T[info.ElementCount];
        switch (info.DType)
        {
            case SafeTensorsDType.F32:
                for (int i = 0; i < values.Length; i++)
                    values[i] = T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i, 4)));
                break;
            case SafeTensorsDType.F64:
                for (int i = 0; i < values.Length; i++)
                    values[i] = T.CreateTruncating(BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(8 * i, 8)));
                break;
            case SafeTensorsDType.F16:
                for (int i = 0; i < values.Length; i++)
                    values[i] = T.CreateTruncating(BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(2 * i, 2)));
                break;
            case SafeTensorsDType.BF16:
                // bfloat16 is the upper 16 bits of an IEEE single.
                for (int i = 0; i < values.Length; i++)
                {
                    int bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i, 2)) << 16;
                    values[i] = T.CreateTruncating(BitConverter.Int32BitsToSingle(bits));
                }
                break;
            default:
                throw new CheckpointFormatException($"{Source}: tensor '{name}' has dtype {info.DType}, expected a floating-point dtype (F16, BF16, F32, F64).");
        }
        return Tensor.FromArray(values, info.Shape);
    }

    /// <summary>Reads and validates a safetensors file.</summary>
    /// <param name="path">The file; it is read whole (at most <see cref="MaxFileBytes"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is null.</exception>
    /// <exception cref="CheckpointFormatException">The file is malformed (message names the file and the problem).</exception>
    /// <exception cref="IOException">The file cannot be read (missing, unreadable).</exception>
    /// <exception cref="UnauthorizedAccessException">Access to the file is denied.</exception>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0); // one read into the exact array: no extra buffer
        long length = stream.Length;
        if (length > MaxFileBytes)
            throw new CheckpointFormatException($"{path}: file is {length} bytes, more than the {MaxFileBytes} this reader accepts.");
        // The length comes from the file system, not from the file's contents.
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return Parse(bytes, path);
    }

    /// <summary>Parses and validates the bytes of a safetensors file (the array is kept, not copied).</summary>
    /// <param name="bytes">The whole file.</param>
    /// <param name="source">A name for error messages.</param>
    /// <exception cref="ArgumentNullException"><paramref name="bytes"/> is null.</exception>
    /// <exception cref="CheckpointFormatException">The bytes are not a valid safetensors file.</exception>
    public static SafeTensorsFile Parse(byte[] bytes, string source = "safetensors data")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(source);
        if (bytes.Length < 8)
            throw Bad(source, $"file is {bytes.Length} bytes, too short for the 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0, 8));
        if (headerLength > (ulong)(bytes.Length - 8))
            throw Bad(source, $"header length {headerLength} exceeds the {bytes.Length - 8} bytes after the length field (truncated or not a safetensors file)");
        if (headerLength > MaxHeaderBytes)
            throw Bad(source, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength < 2)
            throw Bad(source, $"header length {headerLength} is too small for a JSON object");
        int headerLen = (int)headerLength;
        if (bytes[8] != (byte)'{')
            throw Bad(source, "header does not start with '{' (not a safetensors file)");

        long dataStart = 8 + headerLen;
        long dataLength = bytes.Length - dataStart;

        // JsonDocument checks UTF-8 only when a string is read; check it all up front.
        if (!System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(8, headerLen)))
            throw Bad(source, "header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.AsMemory(8, headerLen), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Bad(source, $"header is not valid JSON ({OneLine(e.Message)})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Bad(source, "header is not a JSON object");

            var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var property in root.EnumerateObject())
            {
                string name = property.Name;
                if (name == MetadataKey)
                {
                    if (sawMetadata)
                        throw Bad(source, $"duplicate key '{MetadataKey}'");
                    sawMetadata = true;
                    ReadMetadata(property.Value, metadata, source);
                    continue;
                }
                if (name.Length == 0)
                    throw Bad(source, "a tensor has an empty name");
                if (tensors.ContainsKey(name))
                    throw Bad(source, $"duplicate tensor '{name}'");
                tensors.Add(name, ReadTensorInfo(name, property.Value, dataLength, source));
            }

            // Spans must tile the data buffer exactly: sorted by start, each begins where the last ended.
            var ordered = tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
            long cursor = 0;
            foreach (var t in ordered)
            {
                if (t.Begin < cursor)
                    throw Bad(source, $"tensor '{t.Name}' bytes [{t.Begin}, {t.End}) overlap the previous tensor (ends at {cursor})");
                if (t.Begin > cursor)
                    throw Bad(source, $"gap in the data buffer before tensor '{t.Name}' (bytes [{cursor}, {t.Begin}) belong to no tensor)");
                cursor = t.End;
            }
            if (cursor != dataLength)
                throw Bad(source, $"data buffer is {dataLength} bytes but the tensors cover {cursor} (truncated or trailing bytes)");

            return new SafeTensorsFile(bytes, dataStart, tensors, metadata, ordered.Select(t => t.Name).ToArray(), source);
        }
    }

    private static void ReadMetadata(JsonElement element, Dictionary<string, string> metadata, string source)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Bad(source, $"'{MetadataKey}' is not a JSON object");
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw Bad(source, $"metadata entry '{entry.Name}' is not a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw Bad(source, $"duplicate metadata key '{entry.Name}'");
        }
    }

    private static SafeTensorInfo ReadTensorInfo(string name, JsonElement element, long dataLength, string source)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw Bad(source, $"entry for tensor '{name}' is not a JSON object");
        string? dtypeText = null;
        JsonElement? shapeElement = null, offsetsElement = null;
        foreach (var field in element.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtypeText is null:
                    if (field.Value.ValueKind != JsonValueKind.String)
                        throw Bad(source, $"tensor '{name}': dtype is not a string");
                    dtypeText = field.Value.GetString()!;
                    break;
                case "shape" when shapeElement is null:
                    shapeElement = field.Value;
                    break;
                case "data_offsets" when offsetsElement is null:
                    offsetsElement = field.Value;
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Bad(source, $"tensor '{name}': duplicate field '{field.Name}'");
                default:
                    throw Bad(source, $"tensor '{name}': unknown field '{field.Name}'");
            }
        }
        if (dtypeText is null || shapeElement is null || offsetsElement is null)
            throw Bad(source, $"tensor '{name}' lacks {(dtypeText is null ? "dtype" : shapeElement is null ? "shape" : "data_offsets")}");
        if (!SafeTensorsDTypes.TryParse(dtypeText, out var dtype))
            throw Bad(source, $"tensor '{name}' has unknown dtype '{dtypeText}'");

        var shapeJson = shapeElement.Value;
        if (shapeJson.ValueKind != JsonValueKind.Array)
            throw Bad(source, $"tensor '{name}': shape is not an array");
        int rank = shapeJson.GetArrayLength();
        if (rank > MaxRank)
            throw Bad(source, $"tensor '{name}' has rank {rank}, more than {MaxRank}");
        var shape = new int[rank];
        long elements = 1;
        for (int i = 0; i < rank; i++)
        {
            var dim = shapeJson[i];
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d) || d < 0 || d > int.MaxValue)
                throw Bad(source, $"tensor '{name}': shape[{i}] = {dim.GetRawText()} is not a non-negative 32-bit integer");
            shape[i] = (int)d;
            elements = d == 0 || elements == 0 ? 0 : elements * d;
            if (elements > int.MaxValue)
                throw Bad(source, $"tensor '{name}' has more than {int.MaxValue} elements");
        }

        var offsetsJson = offsetsElement.Value;
        if (offsetsJson.ValueKind != JsonValueKind.Array || offsetsJson.GetArrayLength() != 2)
            throw Bad(source, $"tensor '{name}': data_offsets is not an array of two integers");
        long[] offsets = new long[2];
        for (int i = 0; i < 2; i++)
        {
            var o = offsetsJson[i];
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out offsets[i]) || offsets[i] < 0)
                throw Bad(source, $"tensor '{name}': data_offsets[{i}] = {o.GetRawText()} is not a non-negative integer");
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw Bad(source, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw Bad(source, $"tensor '{name}': data_offsets [{begin}, {end}] run past the {dataLength}-byte data buffer (truncated?)");
        long expected = elements * SafeTensorsDTypes.SizeOf(dtype);
        if (end - begin != expected)
            throw Bad(source, $"tensor '{name}': {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {expected}");
        return new SafeTensorInfo(name, dtype, shape, begin, end);
    }

    private static CheckpointFormatException Bad(string source, string problem)
        => new($"{source}: invalid safetensors file: {problem}.");

    internal static string OneLine(string text)
        => text.ReplaceLineEndings(" ").Trim();
}
