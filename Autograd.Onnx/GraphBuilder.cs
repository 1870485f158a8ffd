using Google.Protobuf;
using global::Onnx;
using Autograd.Nn;

namespace Autograd.Onnx;

/// <summary>One axis of a graph input or output: a fixed size or a named symbolic size (e.g. "batch").</summary>
internal readonly record struct Dim(string? Param, long Value)
{
    public static implicit operator Dim(string param) => new(param, 0);

    public static implicit operator Dim(int value) => new(null, value);
}

/// <summary>Appends nodes, initializers, inputs and outputs to an ONNX graph; no validation beyond naming.</summary>
internal sealed class GraphBuilder(string name)
{
    public GraphProto Graph { get; } = new() { Name = name };

    public void Input(string name, TensorProto.Types.DataType type, Dim[] dims) => Graph.Input.Add(ValueInfo(name, type, dims));

    public void Output(string name, TensorProto.Types.DataType type, Dim[] dims) => Graph.Output.Add(ValueInfo(name, type, dims));

    public void Initializer(string name, long[] dims, float[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);
        tensor.FloatData.Add(data);
        Graph.Initializer.Add(tensor);
    }

    public void Initializer(string name, long[] dims, long[] data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(dims);
        tensor.Int64Data.Add(data);
        Graph.Initializer.Add(tensor);
    }

    /// <summary>A single-output node named after its output; returns the output's name.</summary>
    public string Node(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
    {
        Node(op, inputs, [output], output, attributes);
        return output;
    }

    public void Node(string op, IEnumerable<string> inputs, IEnumerable<string> outputs, string name, IEnumerable<(string Name, object Value)> attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        foreach (var (attributeName, value) in attributes) node.Attribute.Add(Attribute(attributeName, value));
        Graph.Node.Add(node);
    }

    private static AttributeProto Attribute(string name, object value)
    {
        var attribute = new AttributeProto { Name = name };
        switch (value)
        {
            case long i:
                attribute.Type = AttributeProto.Types.AttributeType.Int;
                attribute.I = i;
                break;
            case int i:
                attribute.Type = AttributeProto.Types.AttributeType.Int;
                attribute.I = i;
                break;
            case string text:
                attribute.Type = AttributeProto.Types.AttributeType.String;
                attribute.S = ByteString.CopyFromUtf8(text);
                break;
            case long[] ints:
                attribute.Type = AttributeProto.Types.AttributeType.Ints;
                attribute.Ints.Add(ints);
                break;
            default:
                throw new ArgumentException($"GraphBuilder: attribute '{name}' has unsupported type {value.GetType().Name}.", nameof(value));
        }
        return attribute;
    }

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, Dim[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d.Param is { } p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = d.Value });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
