package io.miniloadbalancer.spring;

import io.miniloadbalancer.core.LoadBalancer;
import java.util.Locale;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * Registers one {@link LoadBalancer} bean per configured pool, named {@code <pool>LoadBalancer} and
 * qualified by the pool's name, so {@code @Qualifier("orders") LoadBalancer orders} injects it. The
 * beans are views of {@link EdgeBalancerPools}, which owns and closes the balancers; a pool bean
 * has no destroy method of its own.
 */
final class PoolBeans implements BeanDefinitionRegistryPostProcessor, EnvironmentAware {

  private Environment environment;

  @Override
  public void setEnvironment(Environment environment) {
    this.environment = environment;
  }

  @Override
  public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
    Map<String, Object> pools =
        Binder.get(environment)
            .bind("edge-balancer.pools", Bindable.mapOf(String.class, Object.class))
            .orElse(Map.of());
    BeanFactory factory = (BeanFactory) registry;
    for (String raw : pools.keySet()) {
      String name = raw.toLowerCase(Locale.ROOT);
      RootBeanDefinition definition =
          new RootBeanDefinition(
              LoadBalancer.class, () -> factory.getBean(EdgeBalancerPools.class).get(name));
      // No inferred close(): EdgeBalancerPools closes the balancer, after the pools have
      // drained.
      definition.setDestroyMethodName("");
      definition.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
      String beanName = name + "LoadBalancer";
      if (!registry.containsBeanDefinition(beanName)) {
        registry.registerBeanDefinition(beanName, definition);
      }
    }
  }

  @Override
  public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {}
}
