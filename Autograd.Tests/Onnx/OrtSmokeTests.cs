using Autograd.Onnx;
using Onnx;

namespace Autograd.Tests.Onnx;

/// <summary>ONNX Runtime's native library loads here and runs a one-node graph built with the exporter's graph builder.</summary>
public class OrtSmokeTests
{
    [Test]
    public void OneAddNode_RunsInOnnxRuntime()
    {
        var g = new GraphBuilder("smoke");
        g.Input("a", TensorProto.Types.DataType.Float, [2, 3]);
        g.Initializer("b", [3], new float[] { 10, 20, 30 });
        g.Node("Add", ["a", "b"], "sum");
        g.Output("sum", TensorProto.Types.DataType.Float, [2, 3]);
        var model = new ModelProto { IrVersion = 8, Graph = g.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExporter.OpsetVersion });

        using var ort = new OrtSession(model);
        var sum = ort.Run(("a", new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]))["sum"];

        Assert.That(sum, Is.EqualTo(new float[] { 11, 22, 33, 14, 25, 36 }));
    }
}
