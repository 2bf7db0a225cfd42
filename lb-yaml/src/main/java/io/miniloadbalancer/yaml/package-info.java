/**
 * Reading hand-written YAML (lb-edge's config, the replay tool's scenarios) with errors a person
 * can act on: {@link io.miniloadbalancer.yaml.YamlReader} binds a file to a type, refuses unknown
 * keys, and reports every problem as a {@link io.miniloadbalancer.yaml.YamlException} naming the
 * file, line, column and key path in words; {@link io.miniloadbalancer.yaml.Durations} is the one
 * duration syntax both accept. An internal support module: lb-edge's runnable jar carries it, and
 * it is not part of lb-bom.
 */
@NullMarked
package io.miniloadbalancer.yaml;

import org.jspecify.annotations.NullMarked;
