import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import software.amazon.event.ruler.Machine;

/**
 * Matches EventBridge event patterns against events with AWS's event-ruler, many pairs per process.
 *
 * stdin:  a JSON array of {"pattern": {...}, "event": {...}}
 * stdout: a JSON array, one entry per pair, in order: true | false | {"error": "..."} (an invalid pattern)
 *
 * Each pair gets its own Machine holding only that pattern, so a pair's answer depends on nothing else.
 */
public final class MatchPatterns {
    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode pairs = json.readTree(System.in);
        if (pairs == null || !pairs.isArray()) throw new IllegalArgumentException("stdin must be a JSON array of {pattern, event}");
        ArrayNode results = json.createArrayNode();
        for (JsonNode pair : pairs) {
            try {
                Machine machine = Machine.builder().build();
                machine.addRule("rule", json.writeValueAsString(pair.get("pattern")));
                results.add(!machine.rulesForJSONEvent(json.writeValueAsString(pair.get("event"))).isEmpty());
            } catch (Exception e) {
                ObjectNode error = results.addObject();
                error.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        System.out.println(json.writeValueAsString(results));
    }
}
